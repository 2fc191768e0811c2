"""Validated tables and the column look-ups that rules use while a problem is built.

`Tables` holds the customer, rep and (optional) pair tables after validation,
indexed by their ids, with integer codes for ids. Rules read columns through its
methods, so every check on a column (exists, numeric, no NaN, not negative) and every
error message has one form.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from alloc.errors import InvalidProblemError, format_ids
from alloc.validation import is_number

__all__ = ["Tables", "parse_sets"]


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def parse_sets(values: pd.Series, known: Collection[str] | None = None) -> pd.Series:
    """Turn a column of lists/sets/tuples or ``;``-separated strings into lists of str.

    With ``known`` (the values the other table has, e.g. the customers' industries), a
    piece with a comma that is not itself known is split on commas as well: people type
    ``"retail, health"`` as often as ``"retail;health"``, and a known value with a
    comma in it (``"Food, Beverages"``) stays whole.
    """

    def split(piece: str) -> list[str]:
        if known is None or "," not in piece or piece in known:
            return [piece]
        return [v.strip() for v in piece.split(",") if v.strip()]

    def one(value: object) -> list[str]:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return []
        if isinstance(value, str):
            return [p for v in value.split(";") if v.strip() for p in split(v.strip())]
        if isinstance(value, (list, tuple, set, frozenset, np.ndarray, pd.Series)):
            return [str(v) for v in value]
        return [str(value)]

    return values.map(one)


@dataclass(frozen=True, eq=False)
class Tables:
    """Validated input tables. Frames are private copies indexed by id."""

    customers: pd.DataFrame
    reps: pd.DataFrame
    pairs: pd.DataFrame | None  # columns _c, _r (codes) and user value columns
    customer_col: str
    rep_col: str

    @property
    def n_customers(self) -> int:
        return len(self.customers)

    @property
    def n_reps(self) -> int:
        return len(self.reps)

    # ---- column access --------------------------------------------------------------
    def customer_column(
        self, column: str, *, rule: str, numeric: bool = True, nonnegative: bool = True
    ) -> np.ndarray:
        return _column(self.customers, column, "customers", rule, numeric, nonnegative)

    def rep_column(
        self, column: str, *, rule: str, numeric: bool = True, nonnegative: bool = True
    ) -> np.ndarray:
        return _column(self.reps, column, "reps", rule, numeric, nonnegative)

    def has_pair_column(self, column: str) -> bool:
        return (
            self.pairs is not None
            and column in self.pairs.columns
            and column
            not in (
                "_c",
                "_r",
            )
        )

    def pair_column(
        self, column: str, pc: np.ndarray, pr: np.ndarray, *, rule: str, nonnegative: bool = True
    ) -> np.ndarray:
        """Values of a pair-table column aligned with the pairs (pc, pr)."""
        assert self.pairs is not None
        values = _column(self.pairs, column, "pairs", rule, True, nonnegative)
        key = self.pairs["_c"].to_numpy(np.int64) * self.n_reps + self.pairs["_r"].to_numpy()
        order = np.argsort(key, kind="stable")
        want = pc.astype(np.int64) * self.n_reps + pr
        pos = np.searchsorted(key[order], want)
        return values[order][pos]

    def metric(self, name: str, pc: np.ndarray, pr: np.ndarray, *, rule: str) -> np.ndarray:
        """A per-pair metric: a pair column if one has this name, else a customer column."""
        if self.has_pair_column(name):
            return self.pair_column(name, pc, pr, rule=rule)
        if name in self.customers.columns:
            return self.customer_column(name, rule=rule)[pc]
        known = sorted(map(str, self.customers.columns))
        if self.pairs is not None:
            known += [f"pairs.{c}" for c in self.pairs.columns if c not in ("_c", "_r")]
        raise InvalidProblemError(
            f"{rule}: metric {name!r} is neither a customer column nor a pair column; "
            f"known columns: {format_ids(known, 12)}. Add the column or fix the name."
        )

    def per_rep(self, spec: float | int | str | None, *, rule: str, arg: str) -> np.ndarray | None:
        """A per-rep limit given as a number or a rep column name; None stays None."""
        if spec is None:
            return None
        if isinstance(spec, str):
            return self.rep_column(spec, rule=rule)
        if is_number(spec):
            if not np.isfinite(spec) or spec < 0:
                raise InvalidProblemError(
                    f"{rule}: {arg} must be a non-negative finite number or a rep column; "
                    f"got {spec!r}."
                )
            return np.full(self.n_reps, float(spec))
        raise InvalidProblemError(
            f"{rule}: {arg} must be a number or the name of a rep column; got {spec!r}."
        )

    def share_weights(self, share: str | None, *, rule: str) -> np.ndarray:
        """Fair-share weights per rep, normalised to sum to 1 (equal when ``share`` is None)."""
        if share is None:
            return np.full(self.n_reps, 1.0 / self.n_reps)
        w = self.rep_column(share, rule=rule)
        bad = self.reps.index[w <= 0]
        if len(bad):
            raise InvalidProblemError(
                f"{rule}: share column reps[{share!r}] must be positive for every rep; "
                f"reps {format_ids(bad)} have values <= 0. Give them a positive weight "
                f"or remove them."
            )
        return w / w.sum()

    # ---- id look-ups ----------------------------------------------------------------
    def customer_codes(self, ids: Iterable[object], *, rule: str) -> np.ndarray:
        return _codes(self.customers.index, list(ids), "customer", rule)

    def rep_codes(self, ids: Iterable[object], *, rule: str) -> np.ndarray:
        return _codes(self.reps.index, list(ids), "rep", rule)


def _column(
    frame: pd.DataFrame, column: str, table: str, rule: str, numeric: bool, nonnegative: bool
) -> np.ndarray:
    if column not in frame.columns:
        known = [c for c in map(str, frame.columns) if c not in ("_c", "_r")]
        raise InvalidProblemError(
            f"{rule}: column {column!r} is missing from {table}; it has "
            f"{format_ids(known, 12) or 'no columns'}. Add the column or fix the name."
        )
    series = frame[column]
    if not numeric:
        return series.to_numpy()
    if not _is_numeric(series):
        failed = pd.to_numeric(series, errors="coerce").isna()
        bad = series.index[failed]
        where = f"rows {format_ids(bad)} are not" if len(bad) else "it is not"
        examples = [str(v) for v in series[failed].dropna().unique()[:3]]
        shown = f" ({', '.join(map(repr, examples))})" if examples else ""
        raise InvalidProblemError(
            f"{rule}: {table}[{column!r}] must be numeric; {where}{shown} "
            f"(dtype {series.dtype}). {_number_hint(examples)}"
        )
    values = series.to_numpy(dtype=float)
    nan = ~np.isfinite(values)
    if nan.any():
        raise InvalidProblemError(
            f"{rule}: {table}[{column!r}] has missing or infinite values at "
            f"{format_ids(frame.index[nan])}. Fill them (e.g. with 0) or drop those rows."
        )
    if nonnegative and (values < 0).any():
        raise InvalidProblemError(
            f"{rule}: {table}[{column!r}] must not be negative; rows "
            f"{format_ids(frame.index[values < 0])} are. Fix or clip the values."
        )
    return values


_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d{1,3}(\.\d{3})*,\d+\s*$|^\s*[-+]?\d+,\d+\s*$")
_THOUSANDS_COMMA = re.compile(r"^\s*[-+]?\d{1,3}(,\d{3})+(\.\d+)?\s*$")
_UNIT_SIGNS = re.compile(r"[€$£%]|\b(EUR|USD|GBP|CHF|h|hrs?)\b", re.IGNORECASE)


def _number_hint(examples: list[str]) -> str:
    """How to convert text that should be numbers, by what the text looks like."""
    if examples and all(_THOUSANDS_COMMA.match(v) for v in examples):
        return (
            "The values have thousands separators: read the CSV with thousands=',' "
            "(pandas), or remove the separators; then convert with pd.to_numeric."
        )
    if examples and all(_DECIMAL_COMMA.match(v) for v in examples):
        return (
            "The values use a decimal comma: read the CSV with decimal=',' and "
            "thousands='.' (pandas; `alloc solve --decimal ','`), or convert the column."
        )
    if examples and any(_UNIT_SIGNS.search(v) for v in examples):
        return (
            "The values carry a currency, percent or unit sign: remove it and convert with "
            "pd.to_numeric (percentages as fractions: 5 % is 0.05)."
        )
    return "Convert the column, e.g. with pd.to_numeric or .astype(int)."


def _codes(index: pd.Index, ids: list[object], kind: str, rule: str) -> np.ndarray:
    codes = index.get_indexer(pd.Index(ids, dtype=object)) if ids else np.zeros(0, np.int64)
    missing = [i for i, c in zip(ids, codes, strict=True) if c < 0]
    if missing:
        raise InvalidProblemError(
            f"{rule}: unknown {kind} ids {format_ids(missing)}; every id must be in the "
            f"{kind}s table."
        )
    return codes.astype(np.int64)
