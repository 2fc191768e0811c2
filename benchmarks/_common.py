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
