"""Flip each detector threshold's comparison in turn and check tests/detect/test_boundaries.py fails.

    python scripts/check_boundaries.py      # from the repository root; restores every file

Each line prints KILLED (a boundary test failed, as it must) or SURVIVED (no test noticed).
"""

import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
os.chdir(ROOT)
#: (file, comparison as written, flipped, -k selecting its boundary tests)
M = [
    (
        "src/tumen/detect/port_visits.py",
        "WHERE r.t_end - r.t_start >= {",
        "WHERE r.t_end - r.t_start > {",
        "port_visit",
    ),
    (
        "src/tumen/detect/legs.py",
        "(NOT brk AND t - p_t >= {gap.min_gap_h * 3600.0}) AS is_gap",
        "(NOT brk AND t - p_t > {gap.min_gap_h * 3600.0}) AS is_gap",
        "silence_of_exactly",
    ),
    (
        "src/tumen/detect/encounters.py",
        "WHERE {dist} <= {size} {in_scope}",
        "WHERE {dist} < {size} {in_scope}",
        "maximum_distance",
    ),
    (
        "src/tumen/detect/encounters.py",
        "        WHERE t1 - t0 >= {params.min_duration_h * 3600.0}",
        "        WHERE t1 - t0 > {params.min_duration_h * 3600.0}",
        "encounter_of_exactly",
    ),
    (
        "src/tumen/detect/legs.py",
        "coalesce({a}sog_kn, {implied}) < {speed_kn} AND coalesce({b}sog_kn, {implied}) < {speed_kn}",
        "coalesce({a}sog_kn, {implied}) <= {speed_kn} AND coalesce({b}sog_kn, {implied}) <= {speed_kn}",
        "slower_than",
    ),
    (
        "src/tumen/detect/legs.py",
        "{fix}.port_dist >= {metres}",
        "{fix}.port_dist > {metres}",
        "port_distance",
    ),
    (
        "src/tumen/detect/loitering.py",
        "WHERE t1 - t0 >= {params.min_duration_h * 3600.0}",
        "WHERE t1 - t0 > {params.min_duration_h * 3600.0}",
        "loitering_of_exactly",
    ),
    (
        "src/tumen/tracks/segments.py",
        'return f"({dist} <= {params.noise_m}',
        'return f"({dist} < {params.noise_m}',
        "speed_limit",
    ),
    (
        "src/tumen/detect/voyages.py",
        "dt <= {params.max_duration_days * 86400.0}",
        "dt < {params.max_duration_days * 86400.0}",
        "voyage",
    ),
    (
        "src/tumen/tracks/segments.py",
        "s.t_end - s.t_start <= {identity.jump_max_h * 3600.0}",
        "s.t_end - s.t_start < {identity.jump_max_h * 3600.0}",
        "longest_duration",
    ),
    (
        "src/tumen/tracks/segments.py",
        "s.n_positions >= {identity.jump_min_positions}",
        "s.n_positions > {identity.jump_min_positions}",
        "fewest_fixes",
    ),
]
env = dict(os.environ, PYTHONPATH=f"{ROOT / 'src'}{os.pathsep}{ROOT / 'tests'}")
survived = 0
for path, old, new, k in M:
    p = pathlib.Path(path)
    src = p.read_text()
    assert src.count(old) == 1, (path, old, src.count(old))
    p.write_text(src.replace(old, new))
    try:
        r = subprocess.run(
            [sys.executable, "-m", "pytest", "tests/detect/test_boundaries.py", "-q"]
            + ["-p", "no:cacheprovider", "-k", k],
            capture_output=True,
            text=True,
            env=env,
        )
        last = r.stdout.strip().splitlines()[-1]
        survived += r.returncode == 0
        verdict = "KILLED" if r.returncode else "SURVIVED"
        print(f"{verdict}  {path}: {old!r} -> {new!r}  [{last}]", flush=True)
    finally:
        p.write_text(src)
sys.exit(1 if survived else 0)
