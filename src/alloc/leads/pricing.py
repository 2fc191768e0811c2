"""Bid prices for [`ExpectedValue`][alloc.leads.ExpectedValue]: the duals of a small LP.

The LP routes a *forecast* of the coming period's leads (the router passes the last
period's leads) to maximise expected value, subject to each rep's cap and to the
fairness window on the cumulative counts::

    max  sum_ir ev_ir x_ir - M * sum_r (s_up_r + s_lo_r)
    s.t. sum_r x_ir <= 1                                   (each forecast lead)
         sum_i x_ir <= cap_r                               (each rep's cap)
         c_r + y_r - (1 + f) w_r (N + Y) <= s_up_r          (window, upper)
         c_r + y_r - (1 - f) w_r (N + Y) >= -s_lo_r         (window, lower)

with ``y_r = sum_i x_ir``, ``Y = sum_r y_r``, ``c_r``/``N`` the counts so far. The
slacks (penalty ``M``, above any lead's value) keep the LP feasible when a rep is
already out of its window; their duals then price the drift. The price of rep ``r`` is
the part of a column's reduced cost that depends on ``r``: the duals of its cap row
and of its two window rows. Routing a lead to ``argmax_r ev_ir - price_r`` is the
classic bid-price rule.

The LP is built once per run with a fixed number of forecast *slots* per rep (dense;
an ineligible pair or an unused slot has upper bound 0) and re-solved each period after
changing only costs and bounds, so HiGHS starts from the last basis (a hot start). A
forecast row standing for ``k`` leads (a thinned forecast) is handled by dividing the
cap, window and total rows by ``k``: the same LP scaled, so prices stay per lead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["PriceModel", "bid_prices"]


class PriceModel:
    """The bid-price LP of one run, kept between periods for hot starts.

    Parameters
    ----------
    n_reps : int
        Reps (columns of every forecast).
    slots : int
        Forecast rows the model holds; a larger forecast rebuilds it.
    """

    def __init__(self, n_reps: int, slots: int) -> None:
        self.n_reps = n_reps
        self.slots = max(1, slots)
        self._highs = self._build()

    def _build(self) -> Any:
        import highspy

        from alloc.solvers.mip import quiet_highs

        n_reps, slots = self.n_reps, self.slots
        k = slots * n_reps
        # Columns: x (slot-major, k), s_up (n_reps), s_lo (n_reps), Y.
        self._n_cols = n_cols = k + 2 * n_reps + 1
        y_col = n_cols - 1
        slot = np.repeat(np.arange(slots), n_reps)
        rep = np.tile(np.arange(n_reps), slots)
        cols = np.arange(k)
        reps = np.arange(n_reps)
        # Rows: lead slots, caps, total, window up, window low (built as COO).
        r_cap, r_tot, r_up, r_lo = slots, slots + n_reps, slots + n_reps + 1, slots + 2 * n_reps + 1
        row = np.concatenate(
            [
                slot,
                r_cap + rep,
                np.full(k + 1, r_tot),
                r_up + rep,
                r_up + reps,
                r_up + reps,
                r_lo + rep,
                r_lo + reps,
                r_lo + reps,
            ]
        )
        col = np.concatenate(
            [
                cols,
                cols,
                np.r_[cols, y_col],
                cols,
                k + reps,
                np.full(n_reps, y_col),
                cols,
                k + n_reps + reps,
                np.full(n_reps, y_col),
            ]
        )
        val = np.concatenate(
            [
                np.ones(k),
                np.ones(k),
                np.r_[np.ones(k), -1.0],
                np.ones(k),
                -np.ones(n_reps),
                np.zeros(n_reps),
                np.ones(k),
                np.ones(n_reps),
                np.zeros(n_reps),
            ]
        )
        self._n_rows = n_rows = slots + 3 * n_reps + 1
        order = np.lexsort((col, row))
        row, col, val = row[order], col[order], val[order]
        start = np.searchsorted(row, np.arange(n_rows))
        inf = highspy.kHighsInf
        highs = quiet_highs(highspy)
        highs.setOptionValue("threads", 1)
        # Presolve would undo the hot start, and costs more than it saves on these LPs.
        highs.setOptionValue("presolve", "off")
        highs.addVars(n_cols, np.zeros(n_cols), np.full(n_cols, inf))
        highs.addRows(
            n_rows,
            np.full(n_rows, -inf),
            np.full(n_rows, inf),
            val.size,
            start.astype(np.int32),
            col.astype(np.int32),
            val.astype(float),
        )
        self._y_col = y_col
        return highs

    def prices(
        self,
        expected: np.ndarray,
        cap: np.ndarray,
        counts: np.ndarray,
        total: int,
        weight_share: np.ndarray,
        fairness: float,
        *,
        weight: float = 1.0,
    ) -> np.ndarray:
        """Price per rep from the LP in the module doc, over the forecast ``expected``.

        Parameters
        ----------
        expected : numpy.ndarray
            ``(forecast leads, reps)`` expected value, ``-inf`` for ineligible pairs.
        cap : numpy.ndarray
            Most leads per period per rep.
        counts, total :
            Leads routed to each rep so far, and in all.
        weight_share : numpy.ndarray
            Target share per rep (sums to 1).
        fairness : float
            Half-width of the window, relative to the target share.
        weight : float
            How many leads each forecast row stands for.
        """
        import highspy

        n_f, n_reps = expected.shape
        eligible = np.isfinite(expected)
        if not eligible.any():
            return np.zeros(n_reps)
        if n_f > self.slots:
            self.slots = n_f
            self._highs = self._build()
        highs = self._highs
        ev = np.zeros((self.slots, n_reps))
        ev[:n_f] = np.where(eligible, expected, 0.0)
        upper = np.zeros((self.slots, n_reps))
        upper[:n_f] = eligible
        penalty = 2.0 * float(ev.max()) + 1.0
        inf = highspy.kHighsInf
        cols = np.arange(self._n_cols, dtype=np.int32)
        highs.changeColsCost(
            self._n_cols, cols, np.r_[-ev.ravel(), np.full(2 * n_reps, penalty), 0.0]
        )
        highs.changeColsBounds(
            self._n_cols,
            cols,
            np.zeros(self._n_cols),
            np.r_[upper.ravel(), np.full(2 * n_reps + 1, inf)],
        )
        up = (1.0 + fairness) * weight_share
        lo = (1.0 - fairness) * weight_share
        for r in range(n_reps):  # the window's -share * Y coefficients
            highs.changeCoeff(self.slots + n_reps + 1 + r, self._y_col, -up[r])
            highs.changeCoeff(self.slots + 2 * n_reps + 1 + r, self._y_col, -lo[r])
        slots = self.slots
        row_lo = np.concatenate(
            [
                np.full(slots + n_reps, -inf),
                [0.0],
                np.full(n_reps, -inf),
                (lo * total - counts) / weight,
            ]
        )
        row_hi = np.concatenate(
            [
                np.ones(slots),
                cap / weight,
                [0.0],
                (up * total - counts) / weight,
                np.full(n_reps, inf),
            ]
        )
        highs.changeRowsBounds(
            self._n_rows, np.arange(self._n_rows, dtype=np.int32), row_lo, row_hi
        )
        highs.run()
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return np.zeros(n_reps)
        dual = np.asarray(highs.getSolution().row_dual, dtype=float)
        d_cap = dual[slots : slots + n_reps]
        d_up = dual[slots + n_reps + 1 : slots + 2 * n_reps + 1]
        d_lo = dual[slots + 2 * n_reps + 1 :]
        # Minimising -value: a column's reduced cost is -ev - sum(a * dual); the part that
        # depends on its rep is -(d_cap + d_up + d_lo), so that is the rep's price.
        return np.asarray(-(d_cap + d_up + d_lo), dtype=float)


def bid_prices(
    expected: np.ndarray,
    cap: np.ndarray,
    counts: np.ndarray,
    total: int,
    weight_share: np.ndarray,
    fairness: float,
    *,
    weight: float = 1.0,
) -> np.ndarray:
    """One-off [`PriceModel.prices`][alloc.leads.pricing.PriceModel.prices] (no hot start)."""
    model = PriceModel(expected.shape[1], expected.shape[0])
    return model.prices(expected, cap, counts, total, weight_share, fairness, weight=weight)
