"""Fixtures of the serve tests (helpers in serve_helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_helpers import Server, add_hostile_vessel, build_store


@pytest.fixture(scope="session")
def scenario_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    return build_store(tmp_path_factory.mktemp("serve-scenario"))

@pytest.fixture(scope="session")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("serve-hostile")
    db, _ = build_store(folder)
    add_hostile_vessel(db, folder)
    return db

@pytest.fixture(scope="session")
def server(scenario_db: tuple[Path, object]) -> Iterator[Server]:
    # keep-alive comments every half second so that the stream test sees one within its bounded time
    # with a token (given as --token): the tests send it as a header, the browser gets the cookie
    srv = Server(scenario_db[0], env={"TUMEN_SERVE__STREAM_KEEPALIVE_S": "0.5"}, token="t0ken-for-tests")
    yield srv
    srv.stop()
