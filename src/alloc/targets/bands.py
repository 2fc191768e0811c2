"""The public forecast: per-book quantiles from the time-series or the customer-base model.

[`forecast`][alloc.targets.forecast] checks its arguments, sums the history per book and
period, draws each book's total over the horizon from the model asked for (the books'
time series, [`alloc.targets.forecasting`][alloc.targets.forecasting]; their customers,
[`alloc.targets.customer_base`][alloc.targets.customer_base]; or the better of the two in a
back-test inside the history) and summarises the draws as quantiles, for every book or
for every node of an organisation tree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from alloc.errors import InvalidProblemError, format_ids
from alloc.targets.customer_base import check_model, simulate_books
from alloc.targets.forecasting import (
    Simulation,
    book_periods,
    check_horizon,
    level_names,
    parse_freq,
    summarise,
)
from alloc.targets.org_tree import tree_order
from alloc.validation import check_param, is_int

__all__ = ["forecast"]


def forecast(
    history: pd.DataFrame,
    *,
    by: str,
    date: str = "date",
    value: str = "amount",
    horizon: int,
    freq: str = "MS",
    levels: Sequence[float] = (0.1, 0.5, 0.9),
    seed: int = 0,
    tree: object = None,
    customer: str | None = None,
    model: str = "time_series",
) -> pd.DataFrame:
    """Quantiles of each book's total over the next ``horizon`` periods.

    Parameters
    ----------
    history : pandas.DataFrame
        Transactions, one row each, with a book column, a date column and a value column.
    by : str
        Column naming the book (rep, territory, region...) each row belongs to.
    date : str, default "date"
        Column of dates (anything `pandas.to_datetime` parses).
    value : str, default "amount"
        Column of amounts (numbers; refunds may be negative).
    horizon : int
        Periods ahead to forecast the total of, >= 1 and at most the periods in the
        history.
    freq : str, default "MS"
        Pandas frequency of the periods ("MS" months, "QS" quarters, "W" weeks...). The
        history runs from the period of its first date to that of its last date; a
        partial last period counts as a full one, so cut the history at a period
        boundary.
    levels : sequence of float, default (0.1, 0.5, 0.9)
        Quantile levels, increasing, strictly between 0 and 1. Ask for more levels
        (e.g. ``numpy.arange(0.05, 1, 0.05)``) to make `set_quotas`'s odds finer.
    seed : int, default 0
        Seed of the bootstrap; the same inputs and seed give the same bands.
    tree : networkx.DiGraph or pandas.DataFrame, optional
        An organisation tree whose leaves are the books (edges parent -> child, or a
        table with ``parent`` and ``child`` columns, as for
        [`cascade`][alloc.targets.cascade]). The table then has a row for every node,
        root first, breadth-first: a node's quantiles are those of the sum of its
        leaves' draws (draws are joint, so they are not the sums of the leaves'
        quantiles); leaves without history are all-zero books. Pass it to
        ``cascade(..., bands=)`` to carry the bands down the tree.
    customer : str, optional
        Column naming each row's customer; needed by the ``customers`` and ``auto``
        models.
    model : {"time_series", "customers", "auto"}, default "time_series"
        ``time_series``: the books' own series and a back-tested model of their total
        (above). ``customers``: the customer-base model (BG/NBD purchase counts and
        Gamma-Gamma spend per customer; see "Books made of customers" in the targets
        guide), for books made of many customers who may stop buying (a cohort that
        decays). ``auto``: the one with the smaller error in a rolling-origin back-test
        inside the history (the time series when there are too few customers per book).

    Returns
    -------
    pandas.DataFrame
        Indexed by book (sorted, named ``by``), with one column per level named after it
        (``p10``, ``p50``, ``p90`` by default) and the columns ``forecast`` (the point
        forecast), ``periods`` (periods since the book's first non-zero value; fewer
        than the window means a short book with wider bands) and ``all_zero`` (the book
        sold nothing in the history; its quantiles are 0). With ``tree``, indexed by
        ``node`` instead, every node of the tree. ``attrs`` holds ``horizon``,
        ``total_method`` (the level model of the pooled total), ``total_spread`` (the
        standard deviation of the log of the total's common shock) and ``origins`` (the
        back-test origins behind it), ``share_scale`` (the factor applied to the books'
        spread about their shares of the total, calibrated at rolling origins inside the
        history), ``model`` (the model used), ``model_note`` (why,
        for ``auto``), ``model_errors`` (mean back-test error per model, sum of
        |actual - forecast| over the sum of actual) and ``model_params`` (fitted
        BG/NBD ``(r, alpha, a, b)`` with time in weeks and Gamma-Gamma ``(p, q, gamma)``).

    Raises
    ------
    InvalidProblemError
        Unknown ``by``, ``date`` or ``value`` columns, dates that do not parse,
        non-numeric or missing values, missing book ids, no rows, or a horizon longer
        than the history (each named in the message); a ``tree`` that is not a tree or
        whose leaves miss some books; an unknown ``customer`` column, missing customer
        ids, or too few customers for ``model="customers"``.
    InvalidParameterError
        A bad ``horizon``, ``freq``, ``levels``, ``seed`` or ``model``, or ``model``
        ``customers``/``auto`` without ``customer``.

    Examples
    --------
    >>> import pandas as pd
    >>> from alloc.targets import forecast
    >>> sales = pd.DataFrame({
    ...     "rep": ["ann"] * 12 + ["bob"] * 12,
    ...     "date": list(pd.date_range("2024-01-01", periods=12, freq="MS")) * 2,
    ...     "amount": [100, 110, 90, 105, 95, 100, 108, 92, 101, 99, 104, 97] * 2})
    >>> fc = forecast(sales, by="rep", horizon=3)
    >>> list(fc.columns)
    ['p10', 'p50', 'p90', 'forecast', 'periods', 'all_zero']
    >>> bool((fc["p10"] < fc["p50"]).all() and (fc["p50"] < fc["p90"]).all())
    True
    """
    owner = "forecast"
    check_param("horizon", horizon, owner, is_int(horizon) and horizon >= 1, "an integer >= 1")
    check_param("seed", seed, owner, is_int(seed) and seed >= 0, "an integer >= 0")
    check_model(history, customer, model, owner)
    names = level_names(levels, owner)
    books = book_periods(history, by, date, value, freq, owner)
    check_horizon(books, int(horizon), owner)
    order = None if tree is None else _leaf_order(tree, books.books, by, owner)
    sim, choice = simulate_books(
        history,
        books,
        columns=(by, str(customer), date, value),
        horizon=int(horizon),
        offset=parse_freq(freq, owner),
        seed=int(seed),
        model=model,
        owner=owner,
    )
    table = summarise(books, sim, [float(x) for x in levels], names, int(horizon))
    table.attrs.update(
        model=choice.model,
        model_note=choice.note,
        model_errors=choice.errors,
        model_params=choice.params,
    )
    if order is None:
        return table
    return _node_table(order, table, sim, [float(x) for x in levels])


def _leaf_order(tree: object, books: pd.Index, by: str, owner: str) -> Any:
    """The tree's nodes in breadth-first order, once every book is known to be a leaf."""
    order = tree_order(tree, owner)
    leaf_nodes = pd.Index([n for n in order.nodes if not order.children[n]])
    unknown = books.difference(leaf_nodes)
    if len(unknown):
        raise InvalidProblemError(
            f"the {by!r} values {format_ids(unknown)} of {owner}'s history are not leaves "
            f"of the tree (its leaves: {format_ids(leaf_nodes)}); every book must be a "
            "node without children."
        )
    return order


def _node_table(
    order: Any, leaves: pd.DataFrame, sim: Simulation, levels: list[float]
) -> pd.DataFrame:
    """The forecast table for every node of the tree: leaves' draws summed up the tree."""
    rows = [order.position[b] for b in leaves.index]
    samples = np.zeros((len(order.nodes), sim.samples.shape[1]))
    samples[rows] = sim.samples
    point, periods, sold = (np.zeros(len(order.nodes)) for _ in range(3))
    point[rows] = sim.point
    periods[rows] = leaves["periods"].to_numpy()
    sold[rows] = ~leaves["all_zero"].to_numpy()
    for node in reversed(order.nodes):  # children before parents
        kids = order.child_positions(node)
        if kids:
            i = order.position[node]
            samples[i] = samples[kids].sum(axis=0)
            point[i], periods[i] = point[kids].sum(), periods[kids].max()
            sold[i] = sold[kids].max()
    names = [str(c) for c in leaves.columns[: len(levels)]]
    table = pd.DataFrame(
        np.quantile(samples, levels, axis=1).T,
        index=pd.Index(order.nodes, name="node"),
        columns=names,
    )
    table["forecast"] = point
    table["periods"] = periods.astype(np.int64)
    table["all_zero"] = sold == 0
    table.attrs.update(leaves.attrs)
    return table
