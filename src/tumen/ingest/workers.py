"""Reading and parsing an NMEA file in a separate process, so that it has a core of its own.

Ingest runs in two stages: (A) read lines, parse them into messages
(:func:`tumen.ingest.nmea.parse_batch`), decode the payloads and build the candidate rows
(:func:`tumen.ingest.batch.prepare_nmea`), (B) dedupe against the store and append
(:func:`tumen.ingest.batch.commit`).
Both are numpy/DuckDB work, but between their vectorised loops Python holds the GIL, so
two threads of one process overlap badly.  For large files stage A runs in a child
interpreter (``python -m tumen.ingest.workers FILE ...``, a plain subprocess: it never
re-runs the caller's script, unlike ``multiprocessing``) that writes each parsed batch as
a pickle to its stdout; the pipe's back-pressure keeps at most about two batches in
flight (bounded memory).  Stage B stays in this process.  The child also computes the
file's SHA-256.

The batches and their order are exactly those of the in-process reader (the child runs
the same loop), so results do not depend on which is used.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from tumen.errors import InputError
from tumen.ingest.files import DamagedInput, LineBatch, LineReader
from tumen.ingest.nmea import ParsedBatch, parse_batch

if TYPE_CHECKING:
    from tumen.ingest.batch import Prepared


def read_and_parse(
    reader: LineReader, tz: str, fragment_gap: int
) -> Iterator[tuple[LineBatch, ParsedBatch]]:
    """Stage A: batches of ``reader`` with their parse; lines left undecided go back to the reader."""
    for batch in reader:
        pb = parse_batch(batch, tz=tz, fragment_gap=fragment_gap)
        if pb.n_lines < batch.n:
            reader.unread(batch.tail_bytes(pb.n_lines), batch.n - pb.n_lines)
        yield batch, pb


def _child(
    path: str, batch_lines: int, tz: str, fragment_gap: int, window_us: int, out: IO[bytes]
) -> None:
    """Body of the reading process: pickles ("batch", prepared batch, bytes read) ...,
    then ("done", sha256)."""
    from tumen.ingest.batch import prepare_nmea  # (imports pyarrow.compute: only here)

    reader = LineReader(Path(path), batch_lines)
    try:
        for batch, pb in read_and_parse(reader, tz, fragment_gap):
            item = ("batch", prepare_nmea(batch, pb, window_us), reader.bytes_read)
            pickle.dump(item, out, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(("done", reader.sha256()), out, protocol=pickle.HIGHEST_PROTOCOL)
    except InputError as exc:
        pickle.dump(("error", exc.reason), out, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        reader.close()
        out.flush()


class ParsingProcess:
    """Stage A of one NMEA file in a child interpreter; iterate to get prepared batches.

    After the iteration ends, :attr:`sha256` holds the file's digest.
    """

    def __init__(self, path: Path, batch_lines: int, tz: str, fragment_gap: int, window_us: int):
        self.path = path
        self.bytes_read = 0
        self.sha256: str | None = None
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tumen.ingest.workers",
                str(path),
                str(batch_lines),
                tz,
                str(fragment_gap),
                str(window_us),
            ],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
        )

    def _failure(self) -> InputError:
        self._proc.wait()
        self._stderr.seek(0)
        lines = self._stderr.read().decode("utf-8", errors="replace").strip().splitlines()
        last = lines[-1] if lines else f"exit code {self._proc.returncode}"
        return InputError(
            f"the reading process failed ({last}); run again with ingest.workers = 0", self.path
        )

    def __iter__(self) -> Iterator[Prepared]:
        assert self._proc.stdout is not None
        while True:
            try:
                item: tuple[Any, ...] = pickle.load(self._proc.stdout)
            except (EOFError, pickle.UnpicklingError):
                raise self._failure() from None
            if item[0] == "batch":
                self.bytes_read = item[2]
                yield item[1]
            elif item[0] == "done":
                self.sha256 = item[1]
                return
            else:  # the child could not read the file to its end
                raise DamagedInput(item[1], self.path)

    def close(self) -> None:
        """Stop the child (if still running)."""
        if self._proc.poll() is None:
            self._proc.kill()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._proc.wait()
        self._stderr.close()


def _main(argv: list[str]) -> None:
    path, batch_lines, tz, gap, window_us = argv
    _child(path, int(batch_lines), tz, int(gap), int(window_us), sys.stdout.buffer)


if __name__ == "__main__":
    _main(sys.argv[1:])
