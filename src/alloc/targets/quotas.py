"""Quotas from an allocation: each rep's share of a total follows its territory.

[`from_allocation`][alloc.targets.from_allocation] sums a basis (potential, or a blend of columns)
over each rep's assigned customers and splits the total exactly by it. Quotas from
forecasts live in their own modules: ``forecasting``, ``odds`` and ``backtesting``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import pandas as pd

from alloc.errors import InvalidParameterError, InvalidProblemError, format_ids
from alloc.targets.apportion import check_unit, to_units
from alloc.targets.basis import blend as blend_columns
from alloc.targets.shares import split

__all__ = ["from_allocation"]


class _HasCustomersReps(Protocol):
    """Anything with ``customers`` and ``reps`` DataFrames, such as ``alloc.Problem``."""

    @property
    def customers(self) -> pd.DataFrame: ...

    @property
    def reps(self) -> pd.DataFrame: ...


def from_allocation(
    problem: _HasCustomersReps | pd.DataFrame,
    assignment: pd.Series,
    total: float,
    *,
    basis: str = "potential",
    blend: Mapping[str, float] | None = None,
    unit: float = 1,
    reps: Sequence[Any] | pd.Index | None = None,
) -> pd.Series:
    """Fair quotas from an allocation: each rep's share of ``total`` follows its territory.

    A rep's quota is proportional to the summed basis (potential by default) of the
    customers assigned to it, split exactly with [`split`][alloc.targets.split]: quotas are
    multiples of ``unit`` and sum to ``total``. Reps without customers get 0. Customers missing from
    the assignment (or assigned NaN) count for nobody.

    Parameters
    ----------
    problem : alloc.Problem or pandas.DataFrame
        Anything with ``customers`` (DataFrame indexed by customer id) and ``reps``
        (DataFrame indexed by rep id), such as [`alloc.Problem`][alloc.Problem]; or just the
        customers DataFrame, indexed by customer id.
    assignment : pandas.Series
        Customer id -> rep id.
    total : int or float
        Amount to share out (e.g. the annual revenue target); a multiple of ``unit``.
    basis : str, default "potential"
        Customer column to share by. Ignored when ``blend`` is given.
    blend : mapping of str to float, optional
        Blend of customer columns instead of one column, e.g.
        ``{"potential": 0.7, "revenue_last_year": 0.3}``; each column counts as shares
        of its total over the assigned customers (see [`blend`][alloc.targets.blend]).
    unit : int or float, default 1
        Granularity of the quotas.
    reps : sequence, optional
        Rep ids to report (and their order). Defaults to ``problem.reps.index``, or,
        when ``problem`` is a DataFrame, to the reps in the assignment in order of first
        appearance.

    Returns
    -------
    pandas.Series
        Quota per rep, named ``"quota"``; int64 when ``total`` and ``unit`` are ints.

    Raises
    ------
    InvalidProblemError
        Assigned customers that are not in the customers table, reps that are not in
        the reps, a missing basis column, negative or missing basis values, or a total
        to place while every assigned customer has basis 0.

    Examples
    --------
    >>> import pandas as pd
    >>> from alloc.targets import from_allocation
    >>> customers = pd.DataFrame({"potential": [50, 30, 20, 100]},
    ...                          index=["c1", "c2", "c3", "c4"])
    >>> assignment = pd.Series({"c1": "ann", "c2": "ann", "c3": "bob", "c4": "cid"})
    >>> from_allocation(customers, assignment, 1_000, unit=10).to_dict()
    {'ann': 400, 'bob': 100, 'cid': 500}
    """
    owner = "from_allocation"
    check_unit(unit, owner)
    to_units(total, unit, "total", owner)
    if isinstance(problem, pd.DataFrame):
        customers = problem
        rep_ids: pd.Index | None = None
    else:
        customers = getattr(problem, "customers", None)  # type: ignore[assignment]
        rep_frame = getattr(problem, "reps", None)
        if not isinstance(customers, pd.DataFrame) or not isinstance(rep_frame, pd.DataFrame):
            raise InvalidParameterError(
                f"the 'problem' parameter of {owner} must be an alloc.Problem (with "
                "'customers' and 'reps' DataFrames) or a customers DataFrame; got "
                f"{type(problem).__name__}."
            )
        rep_ids = rep_frame.index
    if not isinstance(assignment, pd.Series):
        raise InvalidParameterError(
            f"the 'assignment' parameter of {owner} must be a pandas Series customer id "
            f"-> rep id; got {type(assignment).__name__}."
        )
    if assignment.index.has_duplicates:
        raise InvalidProblemError(
            f"the 'assignment' argument of {owner} lists customers more than once: "
            f"{format_ids(assignment.index[assignment.index.duplicated()].unique())}."
        )
    assigned = assignment.dropna()
    unknown = assigned.index.difference(customers.index)
    if len(unknown):
        raise InvalidProblemError(
            f"the 'assignment' argument of {owner} assigns customers that are not in the "
            f"customers table: {format_ids(unknown)}; drop them or add them."
        )
    if reps is not None:
        rep_ids = pd.Index(list(reps))
    elif rep_ids is None:
        rep_ids = pd.Index(pd.unique(assigned.to_numpy()))
    if rep_ids.has_duplicates:
        raise InvalidProblemError(
            f"the rep ids of {owner} are duplicated: "
            f"{format_ids(rep_ids[rep_ids.duplicated()].unique())}."
        )
    strangers = pd.Index(pd.unique(assigned.to_numpy())).difference(rep_ids)
    if len(strangers):
        raise InvalidProblemError(
            f"the 'assignment' argument of {owner} uses reps that are not in the reps "
            f"table: {format_ids(strangers)}; add them to the reps or fix the assignment."
        )
    if len(rep_ids) == 0:
        raise InvalidProblemError(f"{owner} has no reps to give quotas to.")
    rows = customers.loc[assigned.index]
    if blend is not None:
        values = blend_columns(rows, blend)
    else:
        if basis not in customers.columns:
            raise InvalidProblemError(
                f"the customers of {owner} have no column {basis!r} to use as basis; "
                f"available columns: {format_ids(customers.columns, limit=10)}."
            )
        values = rows[basis]
        numeric = pd.to_numeric(values, errors="coerce")
        bad = (numeric.isna() | (numeric < 0)).to_numpy()
        if bad.any():
            raise InvalidProblemError(
                f"the customers of {owner} have missing or negative {basis!r} for "
                f"{format_ids(rows.index[bad])}; fix them or leave those customers "
                "unassigned."
            )
        values = numeric
    rep_basis = values.groupby(assigned.to_numpy()).sum().reindex(rep_ids, fill_value=0)
    try:
        quotas = split(total, rep_basis, unit=unit)
    except InvalidProblemError as exc:
        raise InvalidProblemError(
            f"{owner} cannot share out the total: every assigned customer has basis 0 "
            "(or none is assigned); assign customers with a positive basis."
        ) from exc
    return quotas.rename("quota")
