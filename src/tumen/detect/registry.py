"""The detectors tumen runs, in the order they run (later ones may read earlier ones' output).

One entry per detector module (as ``pipe-events`` lists its event commands): its name (the
module and the ``detector`` of its events), the event type it writes, the settings section
(``detect.<settings_key>``) that holds its frozen parameters, a one-line summary and the public
definition it follows.  Each module's docstring gives the full definition and units.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tumen.detect import encounters, gaps, identity, loitering, port_visits, voyages

if TYPE_CHECKING:
    from tumen.detect.pipeline import Context


@dataclass(frozen=True)
class Detector:
    """One behaviour detector."""

    name: str
    event_type: str
    settings_key: str
    summary: str
    source: str
    run: Callable[[Context], None]


def _port_visits(ctx: Context) -> None:
    port_visits.detect_port_visits(ctx.store, ctx.settings.port_visits)


def _voyages(ctx: Context) -> None:
    voyages.detect_voyages(ctx.store, ctx.settings.voyages, ctx.settings.segments)


def _gaps(ctx: Context) -> None:
    gaps.detect_gaps(
        ctx.store,
        ctx.settings.gaps,
        ctx.settings.segments,
        scope_table=ctx.scope_table,
        radius_scale=ctx.settings.port_visits.radius_scale,
    )


def _loitering(ctx: Context) -> None:
    loitering.detect_loitering(ctx.store, ctx.settings.loitering)


def _encounters(ctx: Context) -> None:
    encounters.detect_encounters(ctx.store, ctx.settings.encounters, scope_table=ctx.scope_table)


def _identity(ctx: Context) -> None:
    identity.detect_identity(
        ctx.store, ctx.settings.identity, ctx.settings.segments, scope_table=ctx.scope_table
    )


GFW_DOCS = "https://globalfishingwatch.github.io/GFW_technical_documentation/"

DETECTORS: tuple[Detector, ...] = (
    Detector(
        port_visits.NAME,
        port_visits.EVENT_TYPE,
        "port_visits",
        "consecutive fixes inside one watched port's radius, at least 30 min",
        GFW_DOCS + "Anchorages-and-voyages.html",
        _port_visits,
    ),
    Detector(
        voyages.NAME,
        voyages.EVENT_TYPE,
        "voyages",
        "between consecutive visits of one vessel at two different watched ports",
        GFW_DOCS + "Anchorages-and-voyages.html",
        _voyages,
    ),
    Detector(
        gaps.NAME,
        gaps.EVENT_TYPE,
        "gaps",
        "silence of at least 6 h inside a track, with the ports reachable while dark",
        GFW_DOCS + "Gaps.html",
        _gaps,
    ),
    Detector(
        loitering.NAME,
        loitering.EVENT_TYPE,
        "loitering",
        "one vessel under 2 kn for at least 4 h, at least 10 km from every watched port",
        "https://globalfishingwatch.org/faqs/what-is-a-loitering-event/",
        _loitering,
    ),
    Detector(
        encounters.NAME,
        encounters.EVENT_TYPE,
        "encounters",
        "two vessels within 500 m for at least 2 h, both under 2 kn, 10 km from every watched port",
        GFW_DOCS + "Encounters.html",
        _encounters,
    ),
    Detector(
        identity.NAME,
        identity.EVENT_TYPE,
        "identity",
        "MMSI conflicts, position jumps, identity changes, invalid IMOs, flag mismatches, DPRK MIDs",
        "https://www.itu.int/rec/R-REC-M.585",
        _identity,
    ),
)


def detector_names() -> list[str]:
    """Names of the registered detectors, in run order."""
    return [d.name for d in DETECTORS]


def detectors_markdown() -> str:
    """``docs/detectors.md``: every detector's definition (its module docstring) and parameters.

    Regenerate with ``python -m tumen.detect.registry > docs/detectors.md``; a test fails when
    the file is out of date.
    """
    import importlib

    from tumen.config import DetectSettings, describe_settings
    from tumen.tracks import segments

    settings = {row["name"]: row for row in describe_settings(DetectSettings)}
    lines = [
        "# Behaviour detectors",
        "",
        "Generated from the detectors' own docstrings and settings by",
        "`python -m tumen.detect.registry > docs/detectors.md`. Every number is a setting",
        "(`tumen config`; `[detect.<section>]` in `tumen.toml`). Times are UTC.",
        "",
    ]

    def section(title: str, module_doc: str | None, key: str, source: str | None) -> None:
        lines.extend([f"## {title}", ""])
        if source:
            lines.extend([f"Public definition followed: <{source}>", ""])
        doc = (module_doc or "").strip()
        lines.extend([doc, ""])
        rows = [r for name, r in settings.items() if name.startswith(key + ".")]
        if rows:
            lines.extend(["| setting | default | meaning |", "|---|---|---|"])
            for r in rows:
                lines.append(f"| `detect.{r['name']}` | `{r['default']}` | {r['description']} |")
            lines.append("")

    section("Track cleaning and segmentation", segments.__doc__, "segments", None)
    for det in DETECTORS:
        module = importlib.import_module(f"tumen.detect.{det.settings_key}")
        section(f"`{det.event_type}` — {det.name}", module.__doc__, det.settings_key, det.source)
    return "\n".join(lines)


if __name__ == "__main__":
    print(detectors_markdown(), end="")
