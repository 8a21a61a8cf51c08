"""tumen against other decoders' own test data (gpsd, libais, pyais), field by field.

The corpora and the peers' expected values are files in ``peer_corpora/`` (see its README:
repository, path, commit and licence of each); nothing is fetched at test time.  For every
message a peer decodes, tumen must store a row whose fields equal the peer's (each peer's
"not available" and text conventions mapped as ``peer_corpora/build.py`` documents), or count
it as a duplicate folded into an identical earlier row, or quarantine it for a reason the
peer's own values show (a position beyond +-90 / +-180; a type 0 or empty payload).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "peer_corpora"))

from peers import CORPORA, compare  # noqa: E402


@pytest.mark.parametrize("corpus", CORPORA)
def test_tumen_agrees_with_the_peer(corpus: str, tmp_path: Path) -> None:
    got = compare(corpus, tmp_path)
    assert got.messages > 0 and got.fields_compared > 0
    assert got.mismatches == []
    rep = got.report
    assert rep["lines"] == rep["stored"] + rep["duplicates"] + rep["quarantined"]
    # every message the peer decodes is accounted for
    assert got.stored + got.duplicates + sum(got.quarantined.values()) == got.messages
    # duplicates: untimed identical copies, each folded into the stored row's repeats
    assert got.duplicates <= got.repeats == rep["repeats_folded"]
    for exp, reason, detail, raw in got.refused:
        f = exp["fields"]
        if reason == "out of range":
            assert abs(f["lat"]) > 90 or abs(f["lon"]) > 180, (exp, detail)
        else:
            assert reason == "undecodable payload", (exp, reason, detail)
            payload = raw.split(",")[5]
            # pyais reads type 0 as type 1; ITU-R M.1371 defines no type 0
            assert payload == "" or payload[0] == "0", (exp, detail)


def test_peers_nonstandard_lengths_are_stored_and_flagged(tmp_path: Path) -> None:
    """gpsd's sample holds type 7, 15, 16, 20 and 21 messages of non-ITU lengths it decodes."""
    got = compare("gpsd_sample", tmp_path)
    assert got.nonstandard > 0
    assert "undecodable payload" not in got.quarantined
