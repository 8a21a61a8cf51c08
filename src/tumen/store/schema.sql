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
    quarantined   BIGINT,                -- lines quarantined with a reason
    params        VARCHAR                -- JSON: ingest settings used (tz, dedupe window, columns)
);

-- Position reports (AIS types 1/2/3, 4 and 11 (base stations), 9, 18, 19, 21, 27 and CSV rows).
-- pos_id / static_id / msg_id are unique over the store by construction: ingest is the only
-- writer and numbers rows from max+1 inside its transaction (no index, so bulk appends stay fast).
CREATE TABLE IF NOT EXISTS positions (
    pos_id       BIGINT NOT NULL,        -- unique over the store, assigned at ingest
    mmsi         BIGINT NOT NULL,        -- as transmitted (a claim, not an identity)
    ts           TIMESTAMP,              -- receive time, UTC; NULL when the input carries none
    lat          DOUBLE,                 -- WGS84 degrees; NULL: the report said "position not
    lon          DOUBLE,                 --   available" (91 / 181): the vessel was heard, not located
    sog_kn       REAL,                   -- speed over ground, knots; NULL = not available
    cog_deg      REAL,                   -- course over ground, degrees true; NULL = not available
    heading_deg  SMALLINT,               -- true heading, degrees; NULL = not available (511)
    nav_status   TINYINT,                -- ITU-R M.1371 navigational status 0–15; NULL for class B
    msg_type     TINYINT,                -- AIS message type; NULL for CSV rows
    class        ENUM('A', 'B'),         -- 'A' or 'B' transponder class (NULL if unknown; an ENUM: cheap to append)
    station      VARCHAR,                -- receiving station (tag block s:, CSV column), if known
    source_id    INTEGER NOT NULL,       -- → sources
    line_no      BIGINT  NOT NULL,       -- 1-based line of the (last) sentence in the source
    line_first   BIGINT  NOT NULL,       -- 1-based first line the message rests on: its first
                                         -- fragment, or a header line ($PGHP, tag block) before it
    accuracy     BOOLEAN,                -- position accuracy flag (true = better than 10 m); NULL for CSV
    utc_second   TINYINT,                -- UTC second field of the report (0-59; 60-63 = n/a); NULL for CSV
    nonstandard_length BOOLEAN,          -- the payload's bit length is not the ITU-R M.1371 one (every
                                         -- stored field was received; tumen.ingest.decode.DECODE_BITS)
    repeats      INTEGER                 -- identical untimed copies later in the same file folded into
                                         -- this row (NULL = none; see tumen.ingest.dedupe)
);

-- Static and voyage-related reports (types 5, 19, 24 A/B, and CSV static columns).
CREATE TABLE IF NOT EXISTS statics (
    static_id    BIGINT NOT NULL,
    mmsi         BIGINT NOT NULL,
    ts           TIMESTAMP,              -- UTC; NULL when the input carries none
    imo          BIGINT,                 -- IMO number as transmitted (check digit NOT validated here)
    name         VARCHAR,                -- vessel name; '@' padding and spaces trimmed at both ends,
                                         -- inner '@' runs → one space, all '@' → NULL
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
    line_first   BIGINT  NOT NULL,
    length_m     REAL,                   -- overall length, metres (to_bow_m + to_stern_m, or a CSV column)
    width_m      REAL,                   -- beam, metres (to_port_m + to_starboard_m, or a CSV column)
    eta          VARCHAR,                -- estimated time of arrival as sent, 'MM-DDTHH:MM' (AIS has no year)
    n_reports    INTEGER,                -- reports this row stands for: NULL = 1 (an AIS static message);
                                         -- CSV: the MMSI's rows in the file until its static values change
    nonstandard_length BOOLEAN,          -- as in positions
    repeats      INTEGER                 -- as in positions
);

-- Every input line that did not become a stored row or a counted duplicate.
CREATE TABLE IF NOT EXISTS quarantine (
    source_id  INTEGER NOT NULL,
    line_no    BIGINT  NOT NULL,
    raw        VARCHAR,                  -- the line as read (decoded as UTF-8 with replacement)
    reason     VARCHAR NOT NULL,         -- e.g. 'bad checksum', 'incomplete multi-part'
                                         -- (vocabulary: tumen.ingest.quarantine.REASONS)
    detail     VARCHAR                   -- what exactly was wrong, e.g. 'type 1 needs 168 bits, got 204'
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

-- === ingest ===
-- Decoded AIS messages of the types that carry neither a position report nor static data
-- (6, 7, 8, 10, 12-17, 20, 22, 23, 25, 26, 28): kept whole so nothing is lost; decode the
-- payload with pyais (`pyais.decode` of a sentence rebuilt from payload and fill_bits).
CREATE TABLE IF NOT EXISTS messages (
    msg_id       BIGINT NOT NULL,        -- unique over the store, assigned at ingest
    mmsi         BIGINT NOT NULL,        -- source MMSI (bits 8-37)
    ts           TIMESTAMP,              -- receive time, UTC; NULL when the input carries none
    msg_type     TINYINT NOT NULL,
    payload      VARCHAR NOT NULL,       -- 6-bit armoured payload, fragments joined
    fill_bits    TINYINT NOT NULL,
    station      VARCHAR,
    source_id    INTEGER NOT NULL,
    line_no      BIGINT  NOT NULL,
    line_first   BIGINT  NOT NULL,
    nonstandard_length BOOLEAN,          -- as in positions
    repeats      INTEGER                 -- as in positions
);

-- Dedupe keys: one per AIS message or CSV row seen (stored or duplicate).  `key` is a 64-bit hash of the
-- payload (tumen.ingest.dedupe.payload_keys); `ts_us` the receive time in microseconds since
-- 1970 UTC, or -4611686018427387904 (-2^62) when the input carries no time.
-- The key is random by design: stored uncompressed (compressing it gains nothing and costs
-- DuckDB most of the insert time; DuckDB-specific clause).
CREATE TABLE IF NOT EXISTS ingest_keys (
    key    BIGINT USING COMPRESSION uncompressed NOT NULL,
    ts_us  BIGINT NOT NULL
);

-- === screening ===
-- Sanctions lists loaded by `tumen lists load` (tumen.screen.lists) and the matches
-- written by `tumen screen` (tumen.screen).  Entities are FollowTheMoney entities.

-- One row per loaded list: its newest version.  A newer copy of a list replaces the older one
-- (same list_id) in one transaction; an older or identical copy is skipped here (every version
-- is kept in list_versions).
CREATE TABLE IF NOT EXISTS lists (
    list_id       VARCHAR PRIMARY KEY,   -- un_sc | us_ofac_sdn | file stem for FtM / CSV lists
    title         VARCHAR NOT NULL,      -- e.g. 'UN Security Council Consolidated List'
    format        VARCHAR NOT NULL,      -- un_xml | ofac_csv | ofac_xml | ftm | vessels_csv | ownership_csv
    path          VARCHAR NOT NULL,      -- main file, made absolute
    sha256        VARCHAR NOT NULL,      -- of the main file's bytes as stored (a .gz hashed compressed)
    files         VARCHAR NOT NULL,      -- JSON list of {path, sha256, role, rows} for every file read
    list_date     DATE,                  -- publication date of the list (UTC), see tumen.screen.lists
    loaded_at     TIMESTAMP NOT NULL,    -- UTC
    tumen_version VARCHAR NOT NULL,
    entities      BIGINT NOT NULL,       -- entities stored (all schemata)
    counts        VARCHAR NOT NULL       -- JSON: entities by schema, orphans, skipped rows, ...
);

-- Every FollowTheMoney entity of every loaded list (Vessel, Company, Organization, Person,
-- LegalEntity, Sanction, Ownership, Directorship, UnknownLink, ...).
CREATE TABLE IF NOT EXISTS entities (
    entity_id  VARCHAR NOT NULL,         -- FtM id, prefixed by the list (e.g. 'ofac-37095')
    list_id    VARCHAR NOT NULL,         -- → lists
    schema     VARCHAR NOT NULL,         -- FtM schema name
    caption    VARCHAR,                  -- FtM caption (the primary name)
    datasets   VARCHAR NOT NULL,         -- JSON list of dataset names
    programs   VARCHAR,                  -- JSON list of sanction programs (targets only)
    target     BOOLEAN NOT NULL,         -- a sanctioned party (has a Sanction entity)
    entity     VARCHAR NOT NULL,         -- the FtM entity as JSON ({id, schema, properties})
    PRIMARY KEY (list_id, entity_id)
);

-- Ownership / management / association edges between entities (from OFAC `Linked To:`
-- remarks, FtM Ownership/Directorship/UnknownLink entities and ownership CSV files).
CREATE TABLE IF NOT EXISTS links (
    list_id     VARCHAR NOT NULL,        -- → lists (the list that states the link)
    source_id   VARCHAR NOT NULL,        -- entity id (asset / organisation / subject)
    target_id   VARCHAR NOT NULL,        -- entity id (owner / director / linked party)
    role        VARCHAR NOT NULL,        -- owner | manager | operator | director | linked | ...
    link_id     VARCHAR,                 -- the FtM link entity (Ownership, ...), if any
    source      VARCHAR NOT NULL         -- JSON: {list, file, sha256, ref, text} where it is stated
);

-- === list history (tumen.screen.lists.history) ===
-- Every version of every list ever loaded (`lists` / `entities` / `links` hold the newest),
-- so that screening, risk and reports can ask what a list said on a given date.

-- One row per loaded version of a list.  A version's date is its list_date, else the day it was loaded.
CREATE TABLE IF NOT EXISTS list_versions (
    version_id    VARCHAR PRIMARY KEY,   -- '<list_id>@<date>' ('.2', '.3' added when one date has several)
    list_id       VARCHAR NOT NULL,      -- → lists
    title         VARCHAR NOT NULL,
    format        VARCHAR NOT NULL,      -- as in lists
    path          VARCHAR NOT NULL,      -- main file, made absolute
    sha256        VARCHAR NOT NULL,      -- of the main file's bytes as stored
    files         VARCHAR NOT NULL,      -- JSON list of {path, sha256, role, rows} for every file read
    fingerprint   VARCHAR NOT NULL,      -- SHA-256 of the sorted SHA-256 of its files (same files = same version)
    list_date     DATE,                  -- the list's own publication date (UTC), if it has one
    loaded_at     TIMESTAMP NOT NULL,    -- UTC
    tumen_version VARCHAR NOT NULL,
    entities      BIGINT NOT NULL,       -- entities in this version (all schemata)
    counts        VARCHAR NOT NULL       -- JSON: entities by schema, ...
);

-- Which entity states make up each version (one row per entity of the version).
CREATE TABLE IF NOT EXISTS list_members (
    version_id  VARCHAR NOT NULL,        -- → list_versions
    entity_id   VARCHAR NOT NULL,        -- → entity_states
    state       VARCHAR NOT NULL         -- → entity_states.state
);

-- Each distinct content an entity of a list has had (stored once however many versions carry it).
CREATE TABLE IF NOT EXISTS entity_states (
    list_id     VARCHAR NOT NULL,        -- → lists
    entity_id   VARCHAR NOT NULL,        -- FtM id, as in entities
    state       VARCHAR NOT NULL,        -- MD5 of the entity JSON
    schema      VARCHAR NOT NULL,        -- as in entities
    caption     VARCHAR,
    datasets    VARCHAR NOT NULL,
    programs    VARCHAR,
    target      BOOLEAN NOT NULL,
    entity      VARCHAR NOT NULL,
    listed_on   DATE                     -- first-listed date the list itself gives for a target (UN LISTED_ON,
                                         -- Sanction listingDate, FtM first_seen; a partial date → its first day)
);

-- The links of each version (as in links).
CREATE TABLE IF NOT EXISTS list_version_links (
    version_id  VARCHAR NOT NULL,        -- → list_versions
    source_id   VARCHAR NOT NULL,
    target_id   VARCHAR NOT NULL,
    role        VARCHAR NOT NULL,
    link_id     VARCHAR,
    source      VARCHAR NOT NULL
);

-- Screening results written by `tumen screen` (one row per identity x candidate kept).
CREATE TABLE IF NOT EXISTS matches (
    mmsi        BIGINT,                  -- the identity screened (from statics)
    imo         BIGINT,
    name        VARCHAR,
    callsign    VARCHAR,
    flag        VARCHAR,
    role        VARCHAR NOT NULL,        -- 'vessel' or the linked party's role: owner | manager | operator | linked | ...
    entity_id   VARCHAR NOT NULL,        -- the list entry matched
    list_id     VARCHAR,
    caption     VARCHAR,
    schema      VARCHAR,
    score       DOUBLE NOT NULL,         -- 0..1
    match       BOOLEAN NOT NULL,        -- score >= screen.threshold
    features    VARCHAR NOT NULL,        -- JSON: feature -> {score, weight, detail, ...}
    datasets    VARCHAR NOT NULL,        -- JSON list
    programs    VARCHAR NOT NULL,        -- JSON list
    designation VARCHAR,                 -- JSON list: {authority, program, listing_date, reference, list}
    path        VARCHAR,                 -- JSON: ownership path (edges with sources) or NULL
    static_ids  VARCHAR,                 -- JSON list of statics.static_id behind the identity (first 20)
    params      VARCHAR,                 -- JSON of the screening settings used
    tumen_version VARCHAR,
    screened_at TIMESTAMP NOT NULL       -- UTC
);

-- === risk ===
-- One row per vessel (MMSI as transmitted), written by `tumen risk` (tumen.risk.rank_vessels).
CREATE TABLE IF NOT EXISTS risk (
    mmsi          BIGINT  NOT NULL,
    imo           BIGINT,                -- latest IMO broadcast by this MMSI
    name          VARCHAR,               -- latest name broadcast
    flag          VARCHAR,               -- latest declared flag (ISO 3166 alpha-2), if any
    score         DOUBLE  NOT NULL,      -- risk points: the sum of the signals' points
    rank          INTEGER NOT NULL,      -- 1 = highest score
    signals       VARCHAR NOT NULL,      -- JSON list: {signal, title, weight, value, points, count,
                                         --             event_ids, entity_ids, notes}
    n_events      INTEGER,               -- distinct events behind the score
    weights       VARCHAR,               -- JSON of the weights and parameters used
    tumen_version VARCHAR NOT NULL,
    ranked_at     TIMESTAMP NOT NULL     -- UTC
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

-- The coordinates of every position clustered by vessel, sorted by (mmsi, ts, pos_id): per-row-group
-- min/max of mmsi let a per-vessel read (tumen serve's tracks) skip the other vessels' rows
-- (tumen.store.by_vessel).  Written by `tumen detect`; covers the positions up to the pos_id
-- recorded in meta ('positions_by_vessel'), readers take later positions from `positions`.
CREATE TABLE IF NOT EXISTS positions_by_vessel (
    mmsi    BIGINT NOT NULL,
    ts      TIMESTAMP,                   -- as positions
    pos_id  BIGINT NOT NULL,             -- → positions
    lat     DOUBLE,
    lon     DOUBLE
);

-- === watch ===
-- Alerts raised by `tumen watch` (tumen.watch.alerts): one row per alert as written to --alerts.
-- Readers (e.g. `tumen serve`) poll new ones with `WHERE seq > ?`.
CREATE TABLE IF NOT EXISTS alerts (
    alert_id  VARCHAR NOT NULL,          -- stable for the same situation (rule, event type, vessels, start)
    rule      VARCHAR NOT NULL,          -- the rule's name
    raised_at TIMESTAMP NOT NULL,        -- UTC, data time (see tumen.watch.alerts)
    is_update BOOLEAN NOT NULL,          -- true: updates an earlier alert of the same alert_id
    mmsi      BIGINT,
    event_id  VARCHAR,                   -- → events (an open gap's id is the one it gets when it closes)
    body      VARCHAR NOT NULL,          -- the full alert JSON object, exactly as written to --alerts
    seq       BIGINT NOT NULL            -- 1, 2, 3 ... in the order alerts were written
);

-- === observe ===
-- Sightings of vessels from outside AIS (tumen observe add / import): satellite imagery, rail cars,
-- port-state reports, photographs.  Written by tumen.observe.ledger; never changed once added.
CREATE TABLE IF NOT EXISTS observations (
    obs_id     BIGINT NOT NULL,          -- 1, 2, 3 ... in the order added
    vessel     VARCHAR NOT NULL,         -- the vessel as given (MMSI, IMO or name)
    mmsi       BIGINT NOT NULL,          -- the MMSI it resolved to (see tumen.observe.ledger.resolve_vessel)
    imo        BIGINT,                   -- IMO broadcast by that MMSI (or given), if any
    name       VARCHAR,                  -- latest name broadcast by that MMSI, if any
    ts         TIMESTAMP NOT NULL,       -- UTC, when the vessel was observed
    lat        DOUBLE NOT NULL,          -- WGS84 degrees (the port's position for --port)
    lon        DOUBLE NOT NULL,
    port       VARCHAR,                  -- the watched port given, or the one whose circle holds lat/lon
    uncertainty_km DOUBLE NOT NULL,      -- how far from lat/lon the vessel may have been, km
    kind       VARCHAR NOT NULL,         -- imagery | rail | port_report | photo | other
    source     VARCHAR NOT NULL,         -- URL or citation (as given)
    note       VARCHAR,                  -- free text (as given)
    confidence VARCHAR NOT NULL,         -- low | medium | high
    attachment VARCHAR,                  -- the attached file's path, made absolute (not copied)
    attachment_sha256 VARCHAR,           -- SHA-256 of its bytes when added
    attachment_bytes BIGINT,
    added_by   VARCHAR NOT NULL,         -- who added it (--added-by, TUMEN_USER, else the OS user)
    added_at   TIMESTAMP NOT NULL,       -- UTC
    origin     VARCHAR NOT NULL,         -- 'cli', or 'FILE line N' for an imported row
    tumen_version VARCHAR NOT NULL,
    seen_name  VARCHAR,                  -- the name the source shows the vessel under (hull, report
                                         -- entry): --seen-name, else the vessel if given as a name
    seen_imo   BIGINT                    -- the IMO number it shows (check digit not required):
                                         -- --seen-imo, else the vessel if given as an IMO
);

-- === upgrades of stores written by earlier versions (each statement does nothing when done) ===
ALTER TABLE positions ALTER COLUMN lat DROP NOT NULL;
ALTER TABLE positions ALTER COLUMN lon DROP NOT NULL;
ALTER TABLE positions ADD COLUMN IF NOT EXISTS nonstandard_length BOOLEAN;
ALTER TABLE positions ADD COLUMN IF NOT EXISTS repeats INTEGER;
ALTER TABLE statics ADD COLUMN IF NOT EXISTS nonstandard_length BOOLEAN;
ALTER TABLE statics ADD COLUMN IF NOT EXISTS repeats INTEGER;
ALTER TABLE observations ADD COLUMN IF NOT EXISTS seen_name VARCHAR;
ALTER TABLE observations ADD COLUMN IF NOT EXISTS seen_imo BIGINT;
ALTER TABLE messages ADD COLUMN IF NOT EXISTS nonstandard_length BOOLEAN;
ALTER TABLE messages ADD COLUMN IF NOT EXISTS repeats INTEGER;
