"""Risk: rank vessels by explained signals (sanctions matches, NK–RU voyages, dark periods, …).

- :mod:`tumen.risk.signals`: the definition and SQL of every signal.
- :mod:`tumen.risk.weights`: the one documented, configurable place for their weights.
- :mod:`tumen.risk.rank`: :func:`rank_vessels`, which writes table ``risk``.
"""

from __future__ import annotations

from tumen.risk.rank import rank_vessels

__all__ = ["rank_vessels"]
