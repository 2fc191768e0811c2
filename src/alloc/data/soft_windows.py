"""A soft window as imbalance terms: how ``Balance(..., soft=True)`` reuses every solver.

The price of rep ``r``'s load ``x`` outside ``[a s, b s]`` (``s`` its fair share) is the
hinge ``penalty * (max(0, x - b s) + max(0, a s - x)) / s``. With ``lo = a s`` and
``hi = b s``::

    max(0, x - hi) + max(0, lo - x) = (|x - lo| + |x - hi|) / 2 - (hi - lo) / 2

so the hinge is two sum-norm imbalance terms (``|x - lo| / lo`` with weight
``penalty a / 2`` and ``|x - hi| / hi`` with weight ``penalty b / 2``) plus a constant.
With one side open, ``max(0, x - hi) = (|x - hi| + x - hi) / 2`` (and the mirror for
``lo``): one imbalance term, a per-pair cost ``+-penalty value / (2 s)`` and a constant.
The constant is added to the pairs of one unit (every plan assigns each unit once), so
the model's objective *is* the priced violation and every solver's bound stays valid.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SoftTerm", "soft_window"]

#: (which side, "share" per rep the deviation is measured from, term weight)
SoftTerm = tuple[str, np.ndarray, float]


def soft_window(
    values: np.ndarray,
    pair_rep: np.ndarray,
    pair_customer: np.ndarray,
    share: np.ndarray,
    low: float | None,
    high: float | None,
    penalty: float,
) -> tuple[list[SoftTerm], np.ndarray]:
    """Imbalance terms and a per-pair cost whose sum is the priced window violation.

    Parameters
    ----------
    values : ndarray
        The metric per pair; ``pair_rep`` and ``pair_customer`` the rep and customer of
        each pair (customer codes: the constant goes to the pairs of customer 0).
    share : ndarray
        Fair share per rep.
    low, high : float or None
        The window as multiples of the share (None or 0 for an open low side).
    penalty : float
        Price of one fair share of load outside the window.

    Returns
    -------
    (terms, cost)
        ``terms``: (side, reference load per rep, weight) of each sum-norm imbalance
        term; ``cost``: per-pair cost (the linear part and the constant).
    """
    has_low = low is not None and low > 0
    has_high = high is not None
    terms: list[SoftTerm] = []
    cost = np.zeros(values.size)
    constant = 0.0
    per_share = values / share[pair_rep]
    if has_low:
        terms.append(("below", share * float(low), penalty * float(low) / 2))  # type: ignore[arg-type]
    if has_high:
        terms.append(("above", share * float(high), penalty * float(high) / 2))  # type: ignore[arg-type]
    n_reps = share.size
    if has_low and has_high:
        constant = -penalty * n_reps * (float(high) - float(low)) / 2  # type: ignore[arg-type]
    elif has_high:
        cost += penalty * per_share / 2
        constant = -penalty * n_reps * float(high) / 2  # type: ignore[arg-type]
    elif has_low:
        cost -= penalty * per_share / 2
        constant = penalty * n_reps * float(low) / 2  # type: ignore[arg-type]
    cost[pair_customer == 0] += constant
    return terms, cost
