"""pyproject.toml stays true: packaged data exists, and every runtime dependency is imported by tumen."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "tumen"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

#: Distribution name → the module tumen imports it as (where they differ).
MODULE_OF = {
    "global-land-mask": "global_land_mask",
    "basemap-data": "mpl_toolkits.basemap_data",
    "swagger-ui-bundle-v2": "swagger_ui_bundle",
}


def _requirement_name(req: str) -> str:
    for sep in "<>=!~;[ ":
        req = req.split(sep)[0]
    return req.strip().lower()


def _imported_modules() -> set[str]:
    """Every module name src/tumen imports (or finds with ``find_spec``/``import_module``), and
    every dotted prefix of it."""
    out: set[str] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", getattr(node.func, "id", None))
                in ("find_spec", "import_module")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                names = [node.args[0].value]
            for name in names:
                parts = name.split(".")
                out.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return out


def test_every_package_data_pattern_matches_a_file() -> None:
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["tumen"]
    empty = [p for p in patterns if not any(f.is_file() for f in SRC.glob(p))]
    assert not empty, f"package-data patterns matching no file: {empty}"


def test_every_runtime_dependency_is_imported_by_tumen() -> None:
    imported = _imported_modules()
    unused = []
    for req in PYPROJECT["project"]["dependencies"]:
        name = _requirement_name(req)
        module = MODULE_OF.get(name, name.replace("-", "_"))
        if module not in imported:
            unused.append(name)
    assert not unused, f"runtime dependencies nothing in src/tumen imports: {unused}"
