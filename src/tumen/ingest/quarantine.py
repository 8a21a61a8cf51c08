"""Why a line was quarantined: the fixed vocabulary of ``quarantine.reason``.

Every input line ends in exactly one of *stored*, *duplicate* or *quarantined*.
A quarantined line is written to the ``quarantine`` table with its raw text, one
reason from :data:`REASONS` and a free-text ``detail``.  The rules:

* A line carrying no AIS sentence is quarantined too (it was read, and nothing is
  silently skipped): ``blank line``, ``comment`` (first non-blank character ``#``),
  ``not an AIS sentence`` (other NMEA sentences such as ``$GPRMC``, bare text, a CSV
  header inside an NMEA file), ``binary data``.
* A header line -- a tag block alone on its line (``\\s:...,c:...*hh\\``) or a
  Gatehouse ``$PGHP`` line -- belongs to the AIS sentence on the next line that is
  not a header: it shares that line's fate (stored, duplicate, or quarantined with
  the same reason).  A header with no sentence after it is ``header without AIS
  sentence``.
* A line that carries several sentences counts once: stored if any message on it
  was stored, else duplicate if any was a duplicate, else quarantined with the
  reason of its first failure.
* Each line of a multi-part message (and its header lines) shares the message's fate.
"""

from __future__ import annotations

import numpy as np

BLANK = "blank line"
COMMENT = "comment"
NOT_AIS = "not an AIS sentence"
BINARY = "binary data"
HEADER_ONLY = "header without AIS sentence"
MALFORMED = "malformed sentence"
BAD_CHECKSUM = "bad checksum"
INCOMPLETE = "incomplete multi-part"
UNDECODABLE = "undecodable payload"
OUT_OF_RANGE = "out of range"
BAD_TIME = "unparseable time"
CSV_HEADER = "csv header"
MALFORMED_ROW = "malformed row"
BAD_MMSI = "invalid MMSI"

#: reason → what it means (the documented vocabulary; code = index + 1)
REASONS: dict[str, str] = {
    BLANK: "empty line, or only spaces",
    COMMENT: "line starting with '#'",
    NOT_AIS: "text that is no AIS sentence: other NMEA sentences ($GPRMC, $PSTT, ...), bare payloads, "
    "a logger's column header",
    BINARY: "line holding control or non-UTF-8 bytes and no AIS sentence",
    HEADER_ONLY: "$PGHP header or stand-alone tag block with no AIS sentence after it",
    MALFORMED: "looks like an AIS sentence but its fields are not well formed (no '!', no *hh "
    "checksum, fragment number beyond the count, fill bits outside 0-5, payload over 200 characters)",
    BAD_CHECKSUM: "the NMEA checksum (XOR of the bytes between '!' and '*') does not match *hh",
    INCOMPLETE: "a fragment of a multi-part message whose other fragments never arrived (within "
    "ingest.fragment_gap_lines lines) or arrived out of order",
    UNDECODABLE: "payload empty, with characters outside the 6-bit armouring, of an unknown message "
    "type (0 or over 28), or of a bit length the message type does not allow (ITU-R M.1371-5)",
    OUT_OF_RANGE: "latitude beyond +-90 or longitude beyond +-180 degrees (other than 'not available', "
    "lat 91 / lon 181, which is stored with a NULL position)",
    BAD_TIME: "the line carries a receive time that cannot be read (tag block c:, $PGHP, logger "
    "prefix, CSV time column) or lies outside 1980-2100",
    CSV_HEADER: "the column-name line of a CSV file (kept here so the layout is on record)",
    MALFORMED_ROW: "CSV row whose number of fields differs from the header's, that cannot be "
    "split into fields (one over 128 KiB), or whose latitude or longitude is not a number",
    BAD_MMSI: "CSV row whose MMSI is missing or not a number of at most 9 digits",
}

#: reason → small integer code used inside the vectorised parsers (0 = no problem)
CODE: dict[str, int] = {reason: i + 1 for i, reason in enumerate(REASONS)}
#: code → reason
REASON_OF: dict[int, str] = {code: reason for reason, code in CODE.items()}


def reasons_array(codes: np.ndarray) -> list[str]:
    """Reason strings for an array of codes (all codes must be non-zero)."""
    return [REASON_OF[int(c)] for c in codes]
