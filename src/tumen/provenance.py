"""Provenance: where every fact came from.

Every finding cites the input file (path and SHA-256), the line number(s) of the
raw message, the detector (name and parameters) and the tumen version.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from tumen import __version__

CHUNK_BYTES = 1 << 20


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes as stored on disk (a ``.gz`` is hashed compressed)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def utc_now() -> datetime:
    """The current time, UTC, without tzinfo (as stored in the store's TIMESTAMP columns)."""
    return datetime.now(UTC).replace(tzinfo=None)


def tumen_version() -> str:
    """The running tumen version string."""
    return __version__
