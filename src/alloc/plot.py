"""Plots of plans: per-rep loads against fair shares, before and after; quota attainment;
territory maps.

Functions draw on a matplotlib ``Axes`` (created when not given) and return it, so
they work in notebooks and scripts alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["attainment", "deviations", "frontier", "loads", "territories", "tradeoff"]


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


def loads(
    loads: pd.DataFrame | dict[str, pd.DataFrame],
    metric: str = "potential",
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Bars of each rep's load of ``metric`` against a line at its fair share.

    What a sales manager reads at a glance: how much each rep carries, in the metric's
    own units, before and after, and how far from a fair share. Deviations of a few
    hundredths of a percent (a balanced plan) stay visible, unlike in
    the percentage bars of `deviations`.

    Parameters
    ----------
    loads : DataFrame or dict of label -> DataFrame
        ``Result.loads`` (or several, e.g. ``{"current": ..., "new plan": ...}``), with
        ``{metric}`` and ``{metric}_share`` columns.
    metric : str
    ax : matplotlib Axes, optional
    title : str, optional

    Examples
    --------
    >>> import alloc, matplotlib
    >>> matplotlib.use("Agg")
    >>> problem = alloc.datasets.sample_problem()
    >>> result = alloc.solve(problem, time_limit=1)
    >>> ax = alloc.plot.loads(result.loads, "potential")
    >>> ax.get_ylabel()
    'potential per rep'
    """
    import matplotlib.pyplot as plt

    frames = loads if isinstance(loads, dict) else {"plan": loads}
    first = next(iter(frames.values()))
    for frame in frames.values():
        missing = [c for c in (metric, f"{metric}_share") if c not in frame.columns]
        if missing:
            raise KeyError(
                f"loads has no column {missing[0]!r}; metrics available: "
                f"{[c[:-6] for c in frame.columns if c.endswith('_share')]}"
            )
    n = len(first)
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6.0, 0.5 * n), 3.8))
    width = 0.8 / max(1, len(frames))
    for i, (label, frame) in enumerate(frames.items()):
        x = np.arange(n) + (i - (len(frames) - 1) / 2) * width
        ax.bar(x, frame[metric].to_numpy(dtype=float), width=width, label=label)
    share = first[f"{metric}_share"].to_numpy(dtype=float)
    # One short black line per rep at its fair share (shares differ when weighted by fte).
    ax.hlines(share, np.arange(n) - 0.45, np.arange(n) + 0.45, colors="black", linewidth=1.6)
    ax.plot([], [], color="black", linewidth=1.6, label="fair share")
    ax.set_xticks(np.arange(n))
    rotate = 0 if n <= 16 else 60
    ax.set_xticklabels([str(i) for i in first.index], rotation=rotate, fontsize=9)
    ax.set_ylabel(f"{metric} per rep")
    ax.set_title(title or f"{metric}: load per rep against its fair share")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(True, axis="y", alpha=0.3)
    ax.figure.tight_layout()
    return ax


def tradeoff(frame: pd.DataFrame, ax: Any = None, metric: str = "objective") -> Any:
    """Frontier of discretionary moves against the objective or a metric's imbalance.

    Parameters
    ----------
    frame : DataFrame
        The output of [`alloc.tradeoff`][alloc.rebalancing.tradeoff] (columns ``moves`` and
        ``objective`` or ``{metric}_max_dev``; ``budget`` labels the points).
    ax : matplotlib Axes, optional
    metric : str
        ``"objective"``, or an imbalance metric (e.g. ``"potential"``) to plot its
        maximum deviation in per cent.

    Examples
    --------
    >>> import matplotlib, pandas as pd, alloc
    >>> matplotlib.use("Agg")
    >>> frame = pd.DataFrame({"budget": [0, 5, 10], "moves": [0, 5, 9],
    ...                       "objective": [0.4, 0.1, 0.05],
    ...                       "potential_max_dev": [0.3, 0.08, 0.04]})
    >>> ax = alloc.plot.tradeoff(frame, metric="potential")
    >>> ax.get_xlabel()
    'discretionary moves'
    """
    import matplotlib.pyplot as plt

    column = "objective" if metric == "objective" else f"{metric}_max_dev"
    if column not in frame.columns:
        known = ["objective"] + [
            c[: -len("_max_dev")] for c in frame.columns if c.endswith("_max_dev")
        ]
        raise KeyError(f"frame has no column {column!r}; metrics available: {known}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 3.5))
    data = frame.dropna(subset=[column]).sort_values("moves", kind="stable")
    y = data[column].to_numpy(dtype=float) * (1.0 if column == "objective" else 100.0)
    x = data["moves"].to_numpy(dtype=float)
    ax.step(x, y, where="post", color="tab:blue", linewidth=1.2)
    ax.plot(x, y, "o", color="tab:blue")
    if "budget" in data.columns:
        for xi, yi, b in zip(x, y, data["budget"].to_numpy(), strict=True):
            ax.annotate(
                f"{b}",
                (xi, yi),
                textcoords="offset points",
                xytext=(4, 4),
                fontsize=7,
                color="0.35",
            )
    ax.set_xlabel("discretionary moves")
    ax.set_ylabel("objective" if column == "objective" else f"{metric}: max deviation (%)")
    ax.set_title("Moves against imbalance (labels: budget)")
    ax.grid(True, alpha=0.3)
    ax.figure.tight_layout()
    return ax


def frontier(
    frame: pd.DataFrame, ax: Any = None, labels: tuple[str, str] = ("primary", "secondary")
) -> Any:
    """The trade-off of [`alloc.frontier`][alloc.frontiers.frontier]: the primary term's
    value against the secondary's, one point per cap (proven points filled).

    Parameters
    ----------
    frame : DataFrame
        The output of ``alloc.frontier`` (columns ``primary``, ``secondary``, ``status``).
    ax : matplotlib Axes, optional
    labels : (str, str)
        Axis names of the primary and the secondary term (e.g. ``("km", "moves")``).

    Examples
    --------
    >>> import matplotlib, pandas as pd, alloc
    >>> matplotlib.use("Agg")
    >>> frame = pd.DataFrame({"budget": [0, 1, 2], "primary": [5.0, 3.0, 2.0],
    ...                       "secondary": [0.0, 1.0, 2.0],
    ...                       "status": ["optimal", "optimal", "feasible"]})
    >>> alloc.plot.frontier(frame, labels=("km", "moves")).get_xlabel()
    'moves'
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 3.5))
    data = frame.dropna(subset=["primary", "secondary"]).sort_values("secondary")
    x, y = data["secondary"].to_numpy(float), data["primary"].to_numpy(float)
    proven = (data["status"] == "optimal").to_numpy()
    ax.step(x, y, where="post", color="tab:blue", linewidth=1.2)
    ax.plot(x[proven], y[proven], "o", color="tab:blue", label="proven optimal")
    ax.plot(x[~proven], y[~proven], "o", mfc="white", color="tab:blue", label="not proven")
    ax.set_xlabel(labels[1])
    ax.set_ylabel(labels[0])
    ax.set_title("Trade-off (each point: the best primary under a cap)")
    ax.legend(fontsize=7)
    ax.grid(True, alpha=0.3)
    ax.figure.tight_layout()
    return ax


def territories(
    geometry: Any,
    assignment: Any,
    centers: Any = None,
    ax: Any = None,
    *,
    labels: bool = True,
    ids: Any = None,
    palette: Any = None,
    border_width: float = 1.6,
    title: str | None = None,
) -> Any:
    """Map of territories: units filled by rep, thick territory borders, centres, labels.

    Drawn with matplotlib alone (no geopandas, tiles or network).

    Parameters
    ----------
    geometry : GeoSeries, GeoDataFrame, DataFrame, Series or sequence
        One polygon per unit, read as by [`alloc.geo.adjacency`][alloc.geo.adjacency]
        (e.g. the frame of [`load_counties`][alloc.datasets.load_counties]).
    assignment : Series or Result
        customer_id -> rep_id, or a `Result` (its ``assignment``, and its ``centers`` when
        ``centers`` is not given). Units it does not name are drawn grey.
    centers : mapping or Series rep_id -> customer_id, optional
        Units marked with a star (a territory's centre or a rep's base).
    ax : matplotlib Axes, optional
    labels : bool, default True
        Write each rep's id inside its territory.
    ids : sequence, optional
        Unit ids of ``geometry``, one per shape (as in `adjacency`).
    palette : sequence of colours or mapping rep_id -> colour, optional
        Default: distinct qualitative colours (tab10, or tab20 and tab20b/c beyond 10 reps).
    border_width : float
        Line width of the territory borders (unit borders are thin and white).
    title : str, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib, pandas as pd, alloc
    >>> from shapely import box
    >>> matplotlib.use("Agg")
    >>> cells = [box(x, 0, x + 1, 1) for x in range(4)]
    >>> plan = pd.Series(["east", "east", "west", "west"])
    >>> ax = alloc.plot.territories(cells, plan, centers={"east": 0, "west": 3})
    >>> [t.get_text() for t in ax.texts]
    ['east', 'west']
    """
    from alloc.geo.mapping import draw_territories
    from alloc.geo.shapes import read_shapes
    from alloc.result import Result

    if isinstance(assignment, Result):
        if centers is None:
            centers = getattr(assignment, "centers", None)
        assignment = assignment.assignment
    return draw_territories(
        read_shapes(geometry, ids),
        assignment,
        centers,
        ax,
        labels=labels,
        palette=palette,
        border_width=border_width,
        title=title,
    )


def attainment(books: pd.DataFrame, ax: Any = None, title: str | None = None) -> Any:
    """Attainment (actual / quota) against book size, one series of points per method.

    A fair quota method shows no slope: small and large books reach quota alike.

    Parameters
    ----------
    books : pandas.DataFrame
        The ``books`` table of `alloc.targets.backtest`: indexed by (method, book), with
        ``attainment`` and ``size`` columns. Books without attainment (quota 0) are
        left out.
    ax : matplotlib Axes, optional
    title : str, optional

    Examples
    --------
    >>> import alloc, matplotlib, numpy as np, pandas as pd
    >>> matplotlib.use("Agg")
    >>> rng = np.random.default_rng(0)
    >>> sales = pd.DataFrame({"rep": np.repeat(["a", "b", "c"], 24),
    ...     "date": np.tile(pd.date_range("2023-01-01", periods=24, freq="MS"), 3),
    ...     "amount": rng.gamma(20, 5, 72)})
    >>> books, _ = alloc.targets.backtest(sales, by="rep", cutoff="2024-07-01", horizon=6)
    >>> ax = alloc.plot.attainment(books)
    """
    import matplotlib.pyplot as plt

    missing = {"attainment", "size"}.difference(books.columns)
    if missing or books.index.nlevels != 2:
        raise KeyError(
            "attainment needs the books table of alloc.targets.backtest (index method, book; "
            f"columns attainment and size); missing columns {sorted(missing)}."
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 3.5))
    for method, frame in books.groupby(level=0, sort=False):
        shown = frame.dropna(subset=["attainment"])
        ax.scatter(shown["size"], shown["attainment"], s=14, alpha=0.7, label=str(method))
    ax.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
    ax.set_xlabel("book size (sold before the cutoff)")
    ax.set_ylabel("attainment (actual / quota)")
    ax.set_title(title or "attainment by book size")
    ax.legend(fontsize=7)
    ax.figure.tight_layout()
    return ax
