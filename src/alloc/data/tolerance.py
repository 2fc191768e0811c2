"""The one comparison rule for hard rows, shared by the checker and every solver.

A hard row (a ``Capacity``, an ``AccountLimit``, a ``Balance`` window, ...) holds for a
rep when its load lies within the row's limits up to a tolerance of ``FEASIBILITY_TOL``
relative to the limit, with an absolute floor of the same size::

    load <= hi + FEASIBILITY_TOL * max(1, |hi|)
    load >= lo - FEASIBILITY_TOL * max(1, |lo|)

on the raw (unscaled) data. Limits written in decimals are therefore met by the float
sums that tie them (``1.7 + 2.2`` is ``3.9000000000000004``, which meets a limit of
3.9), while a real excess (``3.9 + 1e-8``) breaks the rule. The checker compares with
`excess`, the solvers store the widened limits of `upper_limit` and
`lower_limit` once and compare loads to them, and CP-SAT's integer models round
those widened limits outward, so no part of the library rejects a plan another accepts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "FEASIBILITY_TOL",
    "OPTIMALITY_TOL",
    "bound_closes",
    "excess",
    "holds",
    "lower_limit",
    "upper_limit",
]

#: Relative (and, below magnitude 1, absolute) tolerance of every hard row.
FEASIBILITY_TOL = 1e-9

#: A lower bound this close to a plan's objective (relative, floor 1) proves the plan
#: optimal. Bounds from HiGHS (the LP's duals, its branch and cut) carry its 1e-7
#: tolerances: a plan of 0 against an LP bound of -7e-9 was reported FEASIBLE with "gap
#: 100 %". The fuzzing oracle calls two objectives equal within 1e-6.
OPTIMALITY_TOL = 1e-7


def bound_closes(objective: float, bound: float) -> bool:
    """True when ``bound`` proves a plan of value ``objective`` optimal.

    >>> bound_closes(0.0, -7e-9), bound_closes(145.7, 145.6)
    (True, False)
    """
    return objective - bound <= OPTIMALITY_TOL * max(1.0, abs(objective))


def upper_limit(hi: Any) -> Any:
    """The largest load an upper limit ``hi`` allows (``+inf`` stays ``+inf``).

    Parameters
    ----------
    hi : float or array_like
        Raw upper limits.

    Returns
    -------
    float or ndarray
        ``hi + FEASIBILITY_TOL * max(1, |hi|)``, elementwise.

    Examples
    --------
    >>> bool(1.7 + 2.2 <= upper_limit(3.9)), bool(3.9 + 1e-8 <= upper_limit(3.9))
    (True, False)
    """
    return hi + FEASIBILITY_TOL * np.maximum(1.0, np.abs(hi))


def lower_limit(lo: Any) -> Any:
    """The smallest load a lower limit ``lo`` allows (``-inf`` stays ``-inf``).

    Parameters
    ----------
    lo : float or array_like
        Raw lower limits.

    Returns
    -------
    float or ndarray
        ``lo - FEASIBILITY_TOL * max(1, |lo|)``, elementwise.

    Examples
    --------
    >>> bool(0.1 + 0.2 - 1e-12 >= lower_limit(0.3)), bool(0.3 - 1e-8 >= lower_limit(0.3))
    (True, False)
    """
    return lo - FEASIBILITY_TOL * np.maximum(1.0, np.abs(lo))


def excess(load: Any, lo: Any = -np.inf, hi: Any = np.inf) -> np.ndarray:
    """How far each load breaks its row: 0 where the rule holds, else the raw excess.

    Parameters
    ----------
    load : array_like
        Loads (any shape).
    lo, hi : float or array_like
        Raw limits, broadcast against ``load``; ``-inf`` / ``+inf`` where a side is absent.

    Returns
    -------
    ndarray
        ``load - hi`` where ``load > upper_limit(hi)``, ``lo - load`` where
        ``load < lower_limit(lo)``, 0 elsewhere.

    Examples
    --------
    >>> import numpy as np
    >>> excess(np.array([1.7 + 2.2, 5.0, 0.5]), lo=1.0, hi=4.0).tolist()
    [0.0, 1.0, 0.5]
    """
    load = np.asarray(load, dtype=float)
    with np.errstate(invalid="ignore"):  # inf - inf where a side is absent: not chosen
        over = np.where(load > upper_limit(hi), load - hi, 0.0)
        under = np.where(load < lower_limit(lo), lo - load, 0.0)
    return over + under


def holds(load: Any, lo: Any = -np.inf, hi: Any = np.inf) -> Any:
    """True where ``load`` meets the row ``[lo, hi]`` under the comparison rule.

    Examples
    --------
    >>> bool(holds(1.7 + 2.2, hi=3.9))
    True
    """
    return (load <= upper_limit(hi)) & (load >= lower_limit(lo))
