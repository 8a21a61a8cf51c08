"""``tumen serve``: a local-first web workspace and JSON API over a store.

In the spirit of datasette: one command, every page also available as JSON,
read-only, bound to 127.0.0.1 unless a token protects it.  The app is built by
:func:`create_app` (:mod:`tumen.serve.app`); the API lives in
:mod:`tumen.serve.api`, what it reads in :mod:`tumen.serve.queries`, the pages
in :mod:`tumen.serve.pages`, and :mod:`tumen.serve.db` explains how the server
reads a store that ``tumen ingest`` or ``tumen watch`` is writing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI


def create_app(*args: Any, **kwargs: Any) -> FastAPI:
    """See :func:`tumen.serve.app.create_app`."""
    from tumen.serve.app import create_app as _create

    return _create(*args, **kwargs)


__all__ = ["create_app"]
