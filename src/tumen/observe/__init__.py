"""Evidence from outside AIS: the observations ledger, corroboration, and imagery cues.

- :mod:`tumen.observe.ledger`: table ``observations`` (add, import, list; who and when).
- :mod:`tumen.observe.corroborate`: what each observation confirms or contradicts among the events.
- :mod:`tumen.observe.cues`: areas, time windows and STAC searches to check dark port calls in
  satellite imagery (written, never sent).
"""

from __future__ import annotations

from tumen.observe.corroborate import corroborations
from tumen.observe.cues import cues
from tumen.observe.ledger import add_observation, import_observations, list_observations

__all__ = [
    "add_observation",
    "corroborations",
    "cues",
    "import_observations",
    "list_observations",
]
