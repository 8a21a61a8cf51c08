"""Layers import only earlier layers (STYLE.md: one-way flow); settings are the bottom."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "tumen"

#: tumen's packages and modules, bottom first.  A module may import those of its own and of
#: earlier layers only.
LAYERS: list[set[str]] = [
    {"", "errors"},  # the package itself (__version__), the exceptions
    {"config"},
    {"provenance", "identifiers", "times"},
    {"store"},
    {"ingest"},
    {"tracks"},
    {"detect"},
    {"screen"},
    {"observe"},  # observations and imagery cues: read events, feed risk and reports
    {"risk"},
    {"report"},
    {"export"},
    {"engines"},  # where detection runs: export + detect + import around the Spark backend
    {"sim"},
    {"demo"},
    {"serve", "watch"},  # on top of the layers: they call them, never the reverse
    {"cli", "__main__"},
]
LEVEL = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def _imports(path: Path) -> set[str]:
    """The tumen packages/modules a file imports (second dotted part; '' for ``tumen`` itself)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "tumen":
                out.add(parts[1] if len(parts) > 1 else "")
    return out


def test_every_package_is_in_a_layer() -> None:
    tops = {
        p.stem if p.is_file() else p.name
        for p in SRC.iterdir()
        if p.suffix == ".py" or (p / "__init__.py").exists()
    }
    assert tops - {"__init__"} <= set(LEVEL), sorted(tops - set(LEVEL))


def test_no_layer_imports_a_later_one() -> None:
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).parts
        own = rel[0].removesuffix(".py") if rel[0] != "__init__.py" else ""
        for target in _imports(path):
            if LEVEL[target] > LEVEL[own]:
                bad.append(f"{path.relative_to(SRC)} imports tumen.{target}")
    assert not bad, "\n".join(bad)


def test_importing_the_settings_loads_nothing_else_of_tumen() -> None:
    code = "import sys, tumen.config; print(sorted(m for m in sys.modules if m.startswith('tumen')))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['tumen', 'tumen.config', 'tumen.errors']"
