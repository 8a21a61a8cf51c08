"""Behaviour detectors: port visits, voyages, AIS gaps, encounters, loitering and identity fraud.

Every detector is one module with its definition (in words, with units and the public definition it
follows) in its docstring, a frozen parameter section in :class:`tumen.config.DetectSettings`, and
set-based SQL over the store; :mod:`tumen.detect.registry` lists them and
:func:`run_detectors` runs them all (see :mod:`tumen.detect.pipeline`).

>>> from tumen.detect import run_detectors  # doctest: +SKIP
>>> report = run_detectors(store, settings)  # doctest: +SKIP
"""

from tumen.detect.pipeline import DetectReport, run_detectors
from tumen.detect.ports import load_ports

__all__ = ["DetectReport", "load_ports", "run_detectors"]
