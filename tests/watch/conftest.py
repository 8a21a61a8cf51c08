"""Fixtures of the watch tests: one small simulated day (30 vessels, 24 h), and a watcher runner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from watch_helpers import Running, settings

from tumen.config import Settings
from tumen.sim import simulate
from tumen.sim.pipeline import SimResult
from tumen.watch.feeds import Feed
from tumen.watch.loop import Outputs, Watcher
from tumen.watch.rules import Rule


@pytest.fixture(scope="session")
def day(tmp_path_factory: pytest.TempPathFactory) -> SimResult:
    """A simulated day with planted encounters, gaps, loitering, a renaming and look-alikes."""
    out = tmp_path_factory.mktemp("watch-sim")
    return simulate(out, seed=3, hours=24, vessels=30, fmt="nmea", settings=Settings())


@pytest.fixture()
def watch(tmp_path: Path) -> Iterator[Callable[..., Running]]:
    """Start a watcher: ``watch(feeds, rules, alerts=..., webhook=..., **watch_settings)``."""
    started: list[Running] = []

    def _start(
        feeds: list[Feed],
        rules: list[Rule],
        *,
        db: Path | None = None,
        alerts: Path | None = None,
        webhook: str | None = None,
        ports: Path | None = None,
        until_end: bool = False,
        messages: list[str] | None = None,
        **watch_settings: Any,
    ) -> Running:
        cfg = settings(**watch_settings)
        say = messages.append if messages is not None else (lambda s: None)
        outputs = Outputs(alerts, False, webhook, cfg, say)
        w = Watcher(
            db or tmp_path / "t.duckdb",
            cfg,
            feeds,
            rules,
            outputs,
            ports=ports,
            until_end=until_end,
            say=say,
        )
        r = Running(w)
        r.thread.start()
        started.append(r)
        return r

    yield _start
    for r in started:
        if r.thread.is_alive():
            r.watcher.stopping.set()
            r.watcher.wake.set()
            r.thread.join(timeout=60)
