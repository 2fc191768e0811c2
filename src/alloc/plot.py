"""Plots of plans: per-rep loads against fair shares, before and after.

Functions draw on a matplotlib ``Axes`` (created when not given) and return it, so
they work in notebooks and scripts alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["deviations"]


def deviations(
    loads: pd.DataFrame | dict[str, pd.DataFrame],
    metric: str = "potential",
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Bar chart of each rep's relative deviation from its fair share of ``metric``.

    Parameters
    ----------
    loads : DataFrame or dict of label -> DataFrame
        ``Result.loads`` (or several, e.g. ``{"current": ..., "new plan": ...}``),
        with a ``{metric}_dev`` column.
    metric : str
    ax : matplotlib Axes, optional

    Examples
    --------
    >>> import alloc, matplotlib
    >>> matplotlib.use("Agg")
    >>> problem = alloc.datasets.sample_problem()
    >>> result = alloc.solve(problem, time_limit=1)
    >>> ax = alloc.plot.deviations(result.loads, "potential")
    """
    import matplotlib.pyplot as plt

    frames = loads if isinstance(loads, dict) else {"plan": loads}
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6.0, 0.35 * len(next(iter(frames.values())))), 3.5))
    column = f"{metric}_dev"
    width = 0.8 / max(1, len(frames))
    for i, (label, frame) in enumerate(frames.items()):
        if column not in frame.columns:
            raise KeyError(
                f"loads has no column {column!r}; metrics available: "
                f"{[c[:-4] for c in frame.columns if c.endswith('_dev')]}"
            )
        x = np.arange(len(frame)) + (i - (len(frames) - 1) / 2) * width
        ax.bar(x, 100 * frame[column].to_numpy(), width=width, label=label)
    first = next(iter(frames.values()))
    ax.set_xticks(np.arange(len(first)))
    ax.set_xticklabels([str(i) for i in first.index], rotation=90, fontsize=7)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel(f"{metric}: deviation from fair share (%)")
    ax.set_title(title or f"{metric} per rep")
    if len(frames) > 1:
        ax.legend()
    ax.figure.tight_layout()
    return ax
