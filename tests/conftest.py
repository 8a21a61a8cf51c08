"""Shared fixtures: the real data in ../shared/data, fresh stores, and the CLI runner."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tumen.store import DuckDBStore

ROOT = Path(__file__).resolve().parents[1]


def _find_shared_data() -> Path | None:
    env = os.environ.get("TUMEN_SHARED_DATA")
    if env:
        return Path(env)
    for parent in [ROOT, *ROOT.parents]:
        candidate = parent / "shared" / "data"
        if (candidate / "ais").is_dir():
            return candidate
    return None


SHARED_DATA = _find_shared_data()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real captures and lists (``../shared/data``; override with TUMEN_SHARED_DATA).

    Never copied into the repository.  Missing data is a failure, not a skip.
    """
    if SHARED_DATA is None or not SHARED_DATA.is_dir():
        pytest.fail("../shared/data not found: set TUMEN_SHARED_DATA to the shared data folder")
    return SHARED_DATA


@pytest.fixture()
def store(tmp_path: Path) -> DuckDBStore:
    """An empty store in a temporary file."""
    s = DuckDBStore(tmp_path / "test.duckdb")
    yield s
    s.close()


@pytest.fixture()
def cli():
    """Run the tumen CLI in-process: ``cli("ingest", path, "--json")`` → (exit code, stdout, stderr)."""
    from clirun import run_cli

    return run_cli


#: Debian's headless Chromium, driven by Playwright (installed by ``scripts/setup.sh test``)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium through Playwright (one per test module); missing is a failure."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("chromium not found: run scripts/setup.sh test (apt-get install chromium)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# ----------------------------------------------------------------------------- engines (tests/engines.py)
@pytest.fixture(scope="session")
def spark():
    """One SparkSession (local[2]) for the whole test session; stopped at the end."""
    import engines

    session = engines.start_spark()
    yield session
    session.stop()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Detector tests run on each engine: the ``engine`` fixture is parametrised with duckdb and,
    for the cases listed in ``tests/engines.py`` (SPARK_CASES), spark."""
    if "engine" not in metafunc.fixturenames:
        return
    import engines

    selected = engines.spark_case(str(metafunc.definition.path), metafunc.definition.originalname)
    if selected:
        metafunc.parametrize("engine", engines.engine_params(True), indirect=True)


@pytest.fixture()
def engine(request: pytest.FixtureRequest) -> str:
    """The engine ``builders.detect`` runs on in this test (``duckdb`` unless parametrised)."""
    import engines

    name = getattr(request, "param", "duckdb")
    engines.use(name, request.getfixturevalue("spark") if name == "spark" else None)
    yield name
    engines.use("duckdb")
