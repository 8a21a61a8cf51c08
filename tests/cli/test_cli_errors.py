"""Every failure of the CLI is one line on stderr and a documented exit code, never a traceback.

Usage errors (click's, raised by the copy of click that Typer vendors), a store that is
locked, not writable or not a DuckDB file, a full disk (a real 1 MB tmpfs where this
runs as root, and /dev/full), Ctrl-C during ingest (a real SIGINT), outputs of the wrong
kind.  The codes are those of :mod:`tumen.errors`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tumen.errors import DiskFull, InputError, Interrupted, OutputError, StoreError

ROOT = Path(__file__).resolve().parents[2]
SIM_LINES = 10_000


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), *sys.path]))


def one_error_line(err: str) -> str:
    """The single ``error: …`` line of stderr (asserting there is exactly one, and no traceback)."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated NMEA capture of some 20,000 lines (written by `tumen simulate`)."""
    from tumen.config import Settings
    from tumen.sim import simulate

    out = tmp_path_factory.mktemp("sim")
    simulate(out, seed=3, hours=24, vessels=60, fmt="nmea", settings=Settings())
    path = out / "ais.nmea"
    assert path.read_bytes().count(b"\n") > SIM_LINES
    return path


@pytest.fixture(scope="module")
def ingested(capture: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding ``capture``."""
    from tumen.cli import app
    from tumen.cli.common import run_app

    db = tmp_path_factory.mktemp("store") / "s.duckdb"
    assert run_app(app, ["ingest", str(capture), "--db", str(db), "-q"]) == 0
    return db


# -- usage errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["ingest"],  # no path
        ["ingest", "--batch-lines", "abc", "x.nmea"],
        ["bogus"],
        ["events", "--type"],  # option without its value
        ["risk", "--top", "0"],
        ["events", "--format", "xml"],
        ["ingest", "--no-such-option", "x.nmea"],
    ],
    ids=["no-path", "batch-lines-abc", "bogus", "type-no-value", "top-0", "format-xml", "option"],
)
def test_usage_errors_are_clicks_lines_and_exit_2(cli, args: list[str]) -> None:
    code, out, err = cli(*args)
    assert code == 2, err
    assert out == ""
    assert "Traceback" not in err and "typer._click" not in err
    assert err.count("Error:") == 1 and len(err.strip().splitlines()) <= 4, err


def test_usage_error_in_a_real_process(tmp_path: Path) -> None:
    """`python -m tumen`: the real exit code, and stderr without a traceback."""
    for args in (["bogus"], ["ingest", "--batch-lines", "abc", "x.nmea"], ["ingest"]):
        proc = subprocess.run(
            [sys.executable, "-m", "tumen", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=_env(),
            timeout=120,
        )
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr and "Error:" in proc.stderr
        assert proc.stdout == ""
    assert list(tmp_path.iterdir()) == []  # a usage error creates no store


def test_help_and_version_exit_0(cli) -> None:
    code, out, _ = cli("ingest", "--help")
    assert code == 0 and "Usage: tumen ingest" in out
    code, out, _ = cli("--version")
    assert code == 0 and out.startswith("tumen ")


# -- the store -----------------------------------------------------------------------------


def test_not_a_duckdb_file(cli, tmp_path: Path, capture: Path) -> None:
    db = tmp_path / "notes.duckdb"
    db.write_text("these are my notes, not a database\n" * 20)
    for args in (["events", "--db", db], ["ingest", capture, "--db", db]):
        code, _, err = cli(*args)
        assert code == StoreError.exit_code, err
        line = one_error_line(err)
        assert "not a DuckDB database" in line and "another tumen process" not in line
    assert db.read_text().startswith("these are my notes")  # left as it was


def test_store_path_is_a_folder_or_in_a_missing_folder(cli, tmp_path: Path, capture) -> None:
    code, _, err = cli("ingest", capture, "--db", tmp_path)
    assert code == StoreError.exit_code and "is a folder" in one_error_line(err)
    code, _, err = cli("ingest", capture, "--db", tmp_path / "missing" / "s.duckdb")
    assert code == StoreError.exit_code and "does not exist" in one_error_line(err)


def test_store_locked_by_another_process(cli, ingested: Path, capture: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
            "sys.stdin.read()",
            str(ingested),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        code, _, err = cli("ingest", capture, "--db", ingested)
        assert code == StoreError.exit_code, err
        line = one_error_line(err)
        assert f"in use by process {holder.pid}" in line and "wait for it" in line
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)


@pytest.fixture()
def shared_tmp() -> Iterator[Path]:
    """A folder every user may enter (pytest's own are private to their owner)."""
    path = Path(tempfile.mkdtemp(prefix="tumen-perm-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _run_unprivileged(cli, *args: str | os.PathLike[str]) -> tuple[int, str, str]:
    """``cli(*args)`` as a user without root's power to ignore file permissions.

    Not root: run as is.  Root (a container): in a forked child that drops to ``nobody``
    after the modules are imported, so the file permissions are real for it.
    """
    if os.geteuid() != 0:
        return cli(*args)  # type: ignore[no-any-return]
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop privileges, run, report, exit without cleanup
        try:
            os.close(read_fd)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            result = cli(*args)
            os.write(write_fd, json.dumps(result).encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as fh:
        data = fh.read()
    os.waitpid(pid, 0)
    code, out, err = json.loads(data)
    return code, out, err


def test_store_without_write_permission(cli, shared_tmp: Path, ingested: Path, capture) -> None:
    db = shared_tmp / "readonly.duckdb"
    shutil.copy(ingested, db)
    capture = Path(shutil.copy(capture, shared_tmp / "ais.nmea"))
    assert cli("events", "--db", db, "--json")[0] == 0  # the modules the child needs, loaded
    assert cli("ingest", capture, "--db", shared_tmp / "warm.duckdb", "-q")[0] == 0
    db.chmod(0o444)
    code, _, err = _run_unprivileged(cli, "ingest", capture, "--db", db)
    assert code == StoreError.exit_code, err
    line = one_error_line(err)
    assert "permission denied" in line and "another tumen process" not in line
    assert "writable" in line  # says what to do
    code, out, err = _run_unprivileged(cli, "events", "--db", db, "--json")
    assert code == 0, err  # reading a read-only store is fine
    assert json.loads(out)["total"] == 0
    # an unreadable named input: Typer's path check raises its vendored click's
    # BadParameter (a traceback before): a usage error, exit 2, naming the file
    capture.chmod(0o000)
    code, _, err = _run_unprivileged(cli, "ingest", capture, "--db", shared_tmp / "new.duckdb")
    assert code == 2 and "Traceback" not in err
    assert err.count("Error:") == 1 and f"{capture}' is not readable" in err
    assert not (shared_tmp / "new.duckdb").exists()


# -- outputs of the wrong kind ---------------------------------------------------------------


def test_report_out_names_an_existing_file(cli, ingested: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("keep me")
    code, out, err = cli("report", "--db", ingested, "--out", target, "--no-pdf")
    assert code == OutputError.exit_code == InputError.exit_code, err
    assert "is a file" in one_error_line(err) and str(target) in err
    assert target.read_text() == "keep me"


def test_export_out_names_a_folder(cli, ingested: Path, tmp_path: Path) -> None:
    code, _, err = cli("export", "positions", "--db", ingested, "--out", tmp_path)
    assert code == OutputError.exit_code, err
    line = one_error_line(err)
    assert "is a folder" in line and "positions.parquet" in line
    code, _, err = cli("events", "--db", ingested, "--json", "-o", tmp_path)
    assert code == OutputError.exit_code and "is a folder" in one_error_line(err)
    assert list(tmp_path.iterdir()) == []


def test_unreadable_truth_file_is_one_line(cli, ingested: Path, tmp_path: Path) -> None:
    code, _, err = cli("evaluate", "--db", ingested, "--truth", tmp_path / "nope.jsonl")
    assert code == InputError.exit_code and "no such truth file" in one_error_line(err)


# -- a full disk -----------------------------------------------------------------------------


@pytest.fixture()
def small_disk(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """A real small file system (tmpfs, 1 MB unless the test's ``disk_size`` mark says less);
    mounting needs root (as in the project's containers)."""
    mark = request.node.get_closest_marker("disk_size")
    size = mark.args[0] if mark else "1m"
    mnt = tmp_path / "small"
    mnt.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip()}); /dev/full test covers it")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_disk_full_during_ingest(cli, small_disk: Path, capture: Path) -> None:
    code, out, err = cli("ingest", capture, "--db", small_disk / "s.duckdb")
    assert code == DiskFull.exit_code == 7, err
    line = one_error_line(err)
    assert "no space left on device" in line and "rolled back" in line
    with duckdb.connect(str(small_disk / "s.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM sources").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM positions").fetchone() == (0,)


@pytest.mark.disk_size("128k")
def test_disk_full_during_export_leaves_no_partial_file(
    cli, small_disk: Path, ingested: Path
) -> None:
    for fmt in ("csv", "parquet"):
        target = small_disk / f"positions.{fmt}"
        code, _, err = cli("export", "positions", "--db", ingested, "--out", target)
        assert code == DiskFull.exit_code, err
        assert "no space left on device" in one_error_line(err)
        assert list(small_disk.iterdir()) == []  # neither the file nor its partial copy


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_disk_full_at_the_boundary_with_dev_full(cli, ingested: Path) -> None:
    """Writing to /dev/full fails with ENOSPC on every write: a real OSError, mapped."""
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    code, _, err = cli("export", "positions", "--db", ingested, "--out", "/dev/full", "-f", "csv")
    assert code == DiskFull.exit_code, err
    assert "no space left on device" in one_error_line(err)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)  # written to, never replaced


# -- Ctrl-C ----------------------------------------------------------------------------------


def test_ctrl_c_during_ingest_is_one_line_and_130(tmp_path: Path, capture: Path) -> None:
    """A real SIGINT to `python -m tumen ingest`; tiny batches keep it busy for long enough."""
    db = tmp_path / "s.duckdb"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tumen", "ingest", str(capture), "--db", str(db)]
        + ["--batch-lines", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    deadline = time.monotonic() + 120
    while not db.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # most likely well inside the file by now (either way is a pass)
    assert proc.poll() is None, "ingest ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == Interrupted.exit_code == 130, err
    line = one_error_line(err)
    assert line.startswith("error: interrupted") and "run the same command again" in line
    with duckdb.connect(str(db), read_only=True) as con:  # the file was rolled back
        rows = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        tables = {r[0] for r in rows}
        if "positions" in tables:
            assert con.execute("SELECT count(*) FROM positions").fetchone() == (0,)


def test_duckdb_query_interrupted_is_interrupted_and_rolled_back(tmp_path: Path) -> None:
    """SIGINT during a long DuckDB query inside a transaction, in a real process.

    DuckDB answers with ``RuntimeError: Query interrupted`` (mapped to Interrupted, 130);
    the transaction is rolled back and the store closes at once (without stopping the
    query's worker threads first, ROLLBACK and close() waited for the whole query).
    """
    db = tmp_path / "s.duckdb"
    script = (
        "import os, signal, sys, threading\n"
        "from tumen.store import DuckDBStore\n"
        "from tumen.cli.common import translate_error\n"
        "store = DuckDBStore(sys.argv[1])\n"
        "store.execute('CREATE TABLE t AS SELECT range AS x FROM range(200000)')\n"
        "threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()\n"
        "try:\n"
        "    with store, store.transaction():\n"
        "        store.execute('INSERT INTO t VALUES (-1)')\n"
        "        store.query('SELECT count(*) FROM t a, t b WHERE (a.x * 31 + b.x) % 7 = 3')\n"
        "    print('finished')\n"
        "except BaseException as exc:\n"
        "    err = translate_error(exc)\n"
        "    print(type(exc).__name__, type(err).__name__, err.exit_code, flush=True)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(db)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    assert proc.stdout.split() == ["RuntimeError", "Interrupted", "130"], proc.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*), min(x) FROM t").fetchone() == (200_000, 0)


def test_every_exit_code_is_documented_in_the_readme() -> None:
    from tumen import errors

    def subclasses(cls: type) -> list[type]:
        return [cls, *(c for sub in cls.__subclasses__() for c in subclasses(sub))]

    codes = {c.exit_code for c in subclasses(errors.TumenError)} | {0, 1, 2, 130}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    doc = errors.__doc__ or ""
    for code in sorted(codes):
        assert f"\n| {code} |" in readme, f"exit code {code} is not in README's table"
        assert code in (0, 2) or f"exit {code}" in doc, f"exit {code} not in errors.py's tree"
