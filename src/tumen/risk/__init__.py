"""Risk: rank vessels by explained signals (sanctions matches, NK–RU voyages, dark periods, …).

- :mod:`tumen.risk.signals`: the definition and SQL of every signal.
- :mod:`tumen.risk.weights`: the one documented, configurable place for their weights.
- :mod:`tumen.risk.rank`: :func:`rank_vessels`, which writes table ``risk``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tumen.risk.rank import rank_vessels

__all__ = ["rank_vessels"]


def __getattr__(name: str) -> Any:
    # Lazy, so that tumen.config can import tumen.risk.weights without a cycle.
    if name == "rank_vessels":
        from tumen.risk.rank import rank_vessels

        return rank_vessels
    raise AttributeError(name)
