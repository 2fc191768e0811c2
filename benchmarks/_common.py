"""Helpers shared by the benchmark scripts (run as `python benchmarks/bench_*.py`)."""

from __future__ import annotations

import subprocess


def commit() -> str:
    """Short hash of the checked-out commit, or 'unknown' outside a git checkout."""
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def load_map(name: str):  # -> pandas.DataFrame
    """A bundled map by name: a state's counties (``load_counties``) or, for ``"tokyo"``,
    the Tokyo metropolitan area's municipalities (``load_municipalities``)."""
    import alloc

    if name == "tokyo":
        return alloc.datasets.load_municipalities(name)
    return alloc.datasets.load_counties(name)
