"""A simulator of AIS traffic between North Korea and Russia, with ground truth.

``simulate(out_dir, seed=, hours=, vessels=, fmt=)`` writes realistic AIS (NMEA 0183
with NMEA 4.10 tag blocks and/or NOAA MarineCadastre CSV) of background traffic and
planted behaviour in the Sea of Japan / East Sea, the ground truth of every event the
detectors should report (``truth.jsonl``, the event JSON-lines contract plus
``"negative": true`` look-alikes and a ``note``) and the ports file used.
:func:`tumen.sim.evaluate.evaluate` scores detected events against it.

Modules, in the order data flows: ``geo`` (distances, land mask) → ``routes`` (sea
routes) → ``places`` (ports, grounds, receivers) → ``vessels``/``motion`` →
``traffic``/``scenarios`` (the fleet) → ``transmit`` → ``reception`` → ``noise`` →
``encode`` → ``truth`` → ``evaluate``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tumen.sim.pipeline import SimResult, simulate

__all__ = ["SimResult", "simulate"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from tumen.sim import pipeline as _module

        return getattr(_module, name)
    raise AttributeError(name)
