-- tumen store schema (DuckDB dialect, kept to portable SQL types).
-- Times are UTC, stored as TIMESTAMP without zone.  Units are in column names.
-- Data flows one way: sources → positions/statics/quarantine → events → matches/risk.

CREATE TABLE IF NOT EXISTS meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR
);

-- One row per ingested input file (identified by content: re-ingesting adds nothing).
CREATE TABLE IF NOT EXISTS sources (
    source_id     INTEGER PRIMARY KEY,
    path          VARCHAR NOT NULL,      -- as given on the command line, made absolute
    sha256        VARCHAR NOT NULL UNIQUE, -- of the file's bytes as stored on disk
    size_bytes    BIGINT  NOT NULL,
    format        VARCHAR NOT NULL,      -- nmea | noaa_csv | dma_csv | custom_csv
    ingested_at   TIMESTAMP NOT NULL,    -- UTC
    tumen_version VARCHAR NOT NULL,
    lines         BIGINT,                -- lines read
    stored        BIGINT,                -- lines that ended in a stored row
    duplicates    BIGINT,                -- lines that repeated a stored message
    quarantined   BIGINT                 -- lines quarantined with a reason
);

-- Position reports (AIS types 1/2/3, 4 (base stations), 9, 18, 19, 21, 27 and CSV rows).
CREATE TABLE IF NOT EXISTS positions (
    pos_id       BIGINT PRIMARY KEY,     -- unique over the store, assigned at ingest
    mmsi         BIGINT NOT NULL,        -- as transmitted (a claim, not an identity)
    ts           TIMESTAMP,              -- receive time, UTC; NULL when the input carries none
    lat          DOUBLE NOT NULL,        -- WGS84 degrees
    lon          DOUBLE NOT NULL,        -- WGS84 degrees
    sog_kn       REAL,                   -- speed over ground, knots; NULL = not available
    cog_deg      REAL,                   -- course over ground, degrees true; NULL = not available
    heading_deg  SMALLINT,               -- true heading, degrees; NULL = not available (511)
    nav_status   TINYINT,                -- ITU-R M.1371 navigational status 0–15; NULL for class B
    msg_type     TINYINT,                -- AIS message type; NULL for CSV rows
    class        VARCHAR,                -- 'A' or 'B' transponder class (NULL if unknown)
    station      VARCHAR,                -- receiving station (tag block s:, CSV column), if known
    source_id    INTEGER NOT NULL,       -- → sources
    line_no      BIGINT  NOT NULL,       -- 1-based line of the (last) sentence in the source
    line_first   BIGINT  NOT NULL        -- 1-based line of the first sentence (multi-part)
);

-- Static and voyage-related reports (types 5, 19, 24 A/B, and CSV static columns).
CREATE TABLE IF NOT EXISTS statics (
    static_id    BIGINT PRIMARY KEY,
    mmsi         BIGINT NOT NULL,
    ts           TIMESTAMP,              -- UTC; NULL when the input carries none
    imo          BIGINT,                 -- IMO number as transmitted (check digit NOT validated here)
    name         VARCHAR,                -- vessel name, trailing '@' and spaces removed
    callsign     VARCHAR,
    ship_type    SMALLINT,               -- ITU-R M.1371 ship and cargo type
    to_bow_m     SMALLINT,               -- dimensions to the reference point, metres
    to_stern_m   SMALLINT,
    to_port_m    SMALLINT,
    to_starboard_m SMALLINT,
    destination  VARCHAR,
    draught_m    REAL,                   -- metres
    flag         VARCHAR,                -- declared flag (ISO 3166 alpha-2) where the input has one
    msg_type     TINYINT,                -- 5, 19, 24; NULL for CSV rows
    part         VARCHAR,                -- '24A' / '24B' for type 24 parts, else NULL
    source_id    INTEGER NOT NULL,
    line_no      BIGINT  NOT NULL,
    line_first   BIGINT  NOT NULL
);

-- Every input line that did not become a stored row or a counted duplicate.
CREATE TABLE IF NOT EXISTS quarantine (
    source_id  INTEGER NOT NULL,
    line_no    BIGINT  NOT NULL,
    raw        VARCHAR,                  -- the line as read (decoded as UTF-8 with replacement)
    reason     VARCHAR NOT NULL          -- e.g. 'bad checksum', 'incomplete multi-part'
);

-- Behaviour events written by `tumen detect` (see tumen.detect).
CREATE TABLE IF NOT EXISTS events (
    event_id      VARCHAR PRIMARY KEY,   -- deterministic hash of type, vessels, start, detector
    type          VARCHAR NOT NULL,      -- port_visit | voyage | gap | encounter | loitering | identity
    subtype       VARCHAR,               -- identity: mmsi_conflict | position_jump | identity_change |
                                         --           invalid_imo | flag_mismatch | dprk_mid
    mmsi          BIGINT NOT NULL,
    other_mmsi    BIGINT,                -- encounters: the second vessel
    start         TIMESTAMP NOT NULL,    -- UTC
    "end"         TIMESTAMP NOT NULL,    -- UTC
    lat           DOUBLE,                -- representative position, WGS84 degrees
    lon           DOUBLE,
    port          VARCHAR,               -- port_visit
    from_port     VARCHAR,               -- voyage
    to_port       VARCHAR,               -- voyage
    detector      VARCHAR NOT NULL,      -- module that produced it
    params        VARCHAR NOT NULL,      -- JSON of the detector's parameters
    evidence      VARCHAR NOT NULL,      -- JSON: detector, params, position_ids / static_ids, measures
    tumen_version VARCHAR NOT NULL,
    detected_at   TIMESTAMP NOT NULL     -- UTC
);

-- === detect ===
-- Derived tables written by `tumen detect` (replaced per MMSI on each run; see tumen.tracks.segments
-- and tumen.detect.encounters).  They let a later run recompute only the vessels with new data.

-- One row per segment (a physically possible track of one MMSI).
CREATE TABLE IF NOT EXISTS segments (
    mmsi          BIGINT NOT NULL,
    seg_id        BIGINT NOT NULL,       -- ordering key of the segment's first fix (unique per MMSI)
    kind          VARCHAR NOT NULL,      -- track | noise | jump
    start         TIMESTAMP NOT NULL,    -- UTC, first fix
    "end"         TIMESTAMP NOT NULL,    -- UTC, last fix
    n_positions   BIGINT NOT NULL,
    n_runs        BIGINT NOT NULL,       -- stretches of consecutive fixes it is made of
    first_pos_id  BIGINT NOT NULL,       -- → positions
    last_pos_id   BIGINT NOT NULL,
    lat           DOUBLE,                -- first fix, WGS84 degrees
    lon           DOUBLE
);

-- Slow positions at sea resampled on the encounter grid (inputs of the encounter search).
CREATE TABLE IF NOT EXISTS encounter_steps (
    mmsi    BIGINT NOT NULL,
    seg     BIGINT NOT NULL,             -- segments.seg_id
    step_t  BIGINT NOT NULL,             -- grid time, seconds since 1970 UTC
    lat     DOUBLE NOT NULL,             -- interpolated, WGS84 degrees
    lon     DOUBLE NOT NULL,
    a_pos   BIGINT NOT NULL,             -- → positions: the fixes bracketing step_t
    b_pos   BIGINT NOT NULL,
    c0_t    DOUBLE NOT NULL,             -- start and end (s since 1970) of the vessel's run of slow
    c1_t    DOUBLE NOT NULL              --   legs at sea containing this step
);
