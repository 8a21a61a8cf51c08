"""``tumen lists update``: download the current official list files.

The URLs are settings (``screen.un_url``, ``screen.ofac_urls``, ``screen.extra_urls``),
so a user can point them at a mirror.  Each file is saved in ``screen.lists_dir``
under a dated name (``un_sc_consolidated_2026-02-27.xml``, ``sdn_2026-02-27.csv``, ...;
the date is today's, UTC) so that the list date of a CSV without a date of its own is
the download date; it is written to a temporary name first and renamed when complete,
so an interrupted download never leaves a truncated list behind.

Needs internet access; never run in tests.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from tumen.config import ScreenSettings
from tumen.errors import ListError

USER_AGENT = "tumen (+https://github.com/tumen) sanctions list updater"


def dated_name(url: str, day: str) -> str:
    """``https://…/sdn.csv`` → ``sdn_2026-02-27.csv``; ``…/consolidated.xml`` → ``un_sc_consolidated_…xml``."""
    name = Path(urlparse(url).path).name or "list"
    stem, dot, ext = name.partition(".")
    if "scsanctions.un.org" in url:
        stem = "un_sc_" + stem
    return f"{stem}_{day}{dot}{ext}"


def download_lists(
    settings: ScreenSettings,
    *,
    on_file: Callable[[Path], None] | None = None,
    opener: Callable[..., object] = urllib.request.urlopen,
) -> list[Path]:
    """Download every configured list file into ``settings.lists_dir``; return the paths.

    Raises
    ------
    ListError
        When a download fails (names the URL); files already downloaded are kept.
    """
    out_dir = Path(settings.lists_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    day = datetime.now(UTC).date().isoformat()
    paths: list[Path] = []
    for url in [settings.un_url, *settings.ofac_urls, *settings.extra_urls]:
        target = out_dir / dated_name(url, day)
        tmp = target.with_name(target.name + ".part")
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        try:
            resp_cm: Any = opener(request, timeout=settings.download_timeout_s)
            with resp_cm as resp, open(tmp, "wb") as fh:
                while chunk := resp.read(1 << 20):
                    fh.write(chunk)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise ListError(
                f"download of {url} failed ({exc}); check the URL and your connection", target
            ) from None
        os.replace(tmp, target)
        paths.append(target)
        if on_file is not None:
            on_file(target)
    return paths
