"""tumen: open monitoring of the North Korea–Russia sea lanes.

Data flows one way: raw lines → positions/statics → segments → events →
findings (matches, risk) → reports.  See README.md.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tumen")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.1.0+src"

__all__ = ["__version__"]
