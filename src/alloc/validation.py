"""Parameter validation shared by every public function: one message form, one number
test, one yes/no parser.

Every check raises [`alloc.errors.InvalidParameterError`][alloc.errors.InvalidParameterError] (or,
for table values, [`alloc.errors.InvalidProblemError`][alloc.errors.InvalidProblemError]) with the
message *the 'name' parameter of owner must be expected; got value.*, so users see the same form
everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from alloc.errors import InvalidParameterError, InvalidProblemError, format_ids

__all__ = [
    "FLAG_WORDS",
    "Param",
    "check_fraction",
    "check_param",
    "check_params",
    "fraction_error",
    "is_int",
    "is_number",
    "is_real_at_least",
    "named_items",
    "parse_flag",
    "parse_flags",
]


def named_items(
    value: object, kind: type, *, prefix: str, param: str, owner: str, expected: str
) -> dict[str, Any]:
    """One ``kind`` object, a list or a dict name -> object, as a dict of named items.

    A single object is named ``{prefix}0``, a list ``{prefix}0, {prefix}1, ...``; dict
    keys become strings and must stay distinct. Anything else, an empty collection or an
    item of another type raises `InvalidParameterError` naming ``param`` of ``owner``.

    >>> named_items([1, 2], int, prefix="n", param="xs", owner="f", expected="ints")
    {'n0': 1, 'n1': 2}
    """
    if isinstance(value, kind):
        named: dict[str, Any] = {f"{prefix}0": value}
    elif isinstance(value, Mapping):
        named = {str(k): v for k, v in value.items()}
        if len(named) != len(value):
            raise InvalidParameterError(
                f"the {param!r} parameter of {owner} must have distinct names; got "
                f"{format_ids(list(value))} (names clash as strings)."
            )
    elif isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        named = {f"{prefix}{i}": v for i, v in enumerate(value)}
    else:
        named = {}
    ok = bool(named) and all(isinstance(v, kind) for v in named.values())
    shown = value if not named else [type(v).__name__ for v in named.values()]
    check_param(param, shown, owner, ok, expected)
    return named


def is_number(value: object) -> bool:
    """A real number (Python or numpy), not a bool.

    Examples
    --------
    >>> is_number(3), is_number(2.5), is_number(True), is_number("3")
    (True, True, False, False)
    """
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def is_int(value: object) -> bool:
    """A whole number type (Python or numpy int), not a bool.

    Examples
    --------
    >>> is_int(3), is_int(3.0), is_int(False)
    (True, False, False)
    """
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def is_real_at_least(value: object, low: float, *, strict: bool = False) -> bool:
    """A finite real number ``>= low`` (``> low`` when ``strict``), not a bool.

    Examples
    --------
    >>> is_real_at_least(0, 0), is_real_at_least(0, 0, strict=True), is_real_at_least(math.inf, 0)
    (True, False, False)
    """
    if not is_number(value):
        return False
    x = float(value)  # type: ignore[arg-type]
    return math.isfinite(x) and (x > low if strict else x >= low)


def check_param(name: str, value: object, owner: str, ok: bool, expected: str) -> None:
    """Raise ``InvalidParameterError`` in alloc's single message form unless ``ok``.

    Examples
    --------
    >>> check_param("seed", -1, "f", False, "an integer >= 0")
    Traceback (most recent call last):
    ...
    alloc.errors.InvalidParameterError: the 'seed' parameter of f must be an integer >= 0; got -1.
    """
    if not ok:
        raise InvalidParameterError(
            f"the {name!r} parameter of {owner} must be {expected}; got {value!r}."
        )


def fraction_error(value: object) -> str | None:
    """Why ``value`` is not a fraction between 0 and 1 (as a message tail), or None.

    A value above 1 is almost surely a percentage: the message suggests the fraction.

    Examples
    --------
    >>> fraction_error(0.05) is None, fraction_error(1) is None
    (True, True)
    >>> fraction_error(5)
    'must be a fraction between 0 and 1 (0.05 = 5 %); got 5: did you mean 0.05?'
    >>> fraction_error(250)
    'must be a fraction between 0 and 1 (0.05 = 5 %); got 250.'
    """
    if is_real_at_least(value, 0) and float(value) <= 1:  # type: ignore[arg-type]
        return None
    head = f"must be a fraction between 0 and 1 (0.05 = 5 %); got {value!r}"
    if is_real_at_least(value, 1, strict=True) and float(value) <= 100:  # type: ignore[arg-type]
        return f"{head}: did you mean {float(value) / 100:g}?"  # type: ignore[arg-type]
    return f"{head}."


def check_fraction(name: str, value: object, owner: str) -> None:
    """Raise ``InvalidParameterError`` unless ``value`` is a number in [0, 1].

    Examples
    --------
    >>> try:
    ...     check_fraction("tolerance", 5, "Balance")
    ... except InvalidParameterError as exc:
    ...     print(*str(exc).split("; "), sep="\\n")
    the 'tolerance' parameter of Balance must be a fraction between 0 and 1 (0.05 = 5 %)
    got 5: did you mean 0.05?
    """
    error = fraction_error(value)
    if error is not None:
        raise InvalidParameterError(f"the {name!r} parameter of {owner} {error}")


@dataclass(frozen=True)
class Param:
    """A declared constraint on one parameter: a test and the words for what it accepts."""

    test: Callable[[Any], bool]
    expected: str


def check_params(owner: str, declared: Mapping[str, Param], values: Mapping[str, object]) -> None:
    """Check each value against its declared constraint, in declaration order.

    Examples
    --------
    >>> rules = {"k": Param(lambda v: is_int(v) and v > 0, "a positive integer")}
    >>> check_params("f", rules, {"k": 2})
    >>> check_params("f", rules, {"k": 0})
    Traceback (most recent call last):
    ...
    alloc.errors.InvalidParameterError: the 'k' parameter of f must be a positive integer; got 0.
    """
    for name, param in declared.items():
        if name in values:
            value = values[name]
            check_param(name, value, owner, bool(param.test(value)), param.expected)


#: The words read as yes/no in flag columns (case and surrounding spaces ignored).
FLAG_WORDS: dict[str, bool] = {
    "true": True,
    "yes": True,
    "y": True,
    "1": True,
    "false": False,
    "no": False,
    "n": False,
    "0": False,
    "": False,
}
"""Words read as yes (True) or no (False) in flag columns, after stripping surrounding
spaces and lower-casing; the empty string (an empty CSV cell) is no."""


def parse_flag(value: object) -> bool | None:
    """Read one yes/no value; ``None`` when it is not one.

    Booleans and numbers 0/1 are read as themselves, missing values as no, and the
    strings in [`FLAG_WORDS`][alloc.validation.FLAG_WORDS] in any case.

    Examples
    --------
    >>> [parse_flag(v) for v in (True, 0, 1.0, " Yes ", "no", None, float("nan"), "maybe", 2)]
    [True, False, True, True, False, False, False, None, None]
    """
    if value is None or value is pd.NA:
        return False
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, str):
        return FLAG_WORDS.get(value.strip().lower())
    if is_number(value):
        x = float(value)  # type: ignore[arg-type]
        if math.isnan(x):
            return False
        if x in (0.0, 1.0):
            return bool(x)
    return None


def parse_flags(values: pd.Series | Iterable[object], *, column: str, what: str) -> np.ndarray:
    """Read a column of yes/no values as a bool array, or raise naming the bad rows.

    ``column`` and ``what`` (e.g. ``"customers"``) name the source in the message.

    Examples
    --------
    >>> parse_flags(pd.Series(["yes", "No", True, 0]), column="key", what="customers")
    array([ True, False,  True, False])
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values))
    if series.dtype.kind in "biuf":
        # Numeric columns (the common case, e.g. a bool key-account column of a million
        # customers) are read at once, with the same meaning as parse_flag.
        x = series.to_numpy(dtype=float)
        missing = np.isnan(x)
        bad = np.flatnonzero(~(missing | (x == 0.0) | (x == 1.0)))
        parsed = ~missing & (x == 1.0)
    else:
        read = [parse_flag(v) for v in series.tolist()]
        bad = np.asarray([i for i, v in enumerate(read) if v is None], dtype=np.int64)
        parsed = np.asarray([bool(v) for v in read], dtype=bool)
    if bad.size:
        shown = format_ids(series.index[bad].tolist())
        raise InvalidProblemError(
            f"column {column!r} of {what} must hold yes/no values (true/false, yes/no, 1/0 "
            f"or empty); rows {shown} hold {format_ids(series.iloc[bad].unique().tolist())}. "
            "Fix those cells or choose another column."
        )
    return parsed
