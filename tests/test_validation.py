"""Tests for alloc.validation: the number tests, the message form and the yes/no parser."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

import alloc
from alloc import errors
from alloc.validation import (
    FLAG_WORDS,
    Param,
    check_param,
    check_params,
    is_int,
    is_number,
    is_real_at_least,
    parse_flag,
    parse_flags,
)

# ---- numbers ----------------------------------------------------------------------------

NUMBERS = [3, -2, 0, 2.5, -0.0, math.nan, math.inf, np.int8(4), np.uint64(7), np.float32(0.5)]
NOT_NUMBERS = [True, False, np.bool_(True), "3", None, 1j, Decimal("1"), Fraction(1, 2), [1]]


@pytest.mark.parametrize("value", NUMBERS, ids=repr)
def test_is_number_accepts_python_and_numpy_reals_even_nan_and_inf(value: object) -> None:
    assert is_number(value)


@pytest.mark.parametrize("value", NOT_NUMBERS, ids=repr)
def test_is_number_rejects_bools_strings_and_other_numeric_types(value: object) -> None:
    assert not is_number(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3, True), (np.int64(3), True), (np.uint8(0), True), (3.0, False), (True, False)],
    ids=repr,
)
def test_is_int_means_an_integer_type_not_a_whole_float_or_bool(
    value: object, expected: bool
) -> None:
    assert is_int(value) is expected


@pytest.mark.parametrize(
    ("value", "low", "strict", "expected"),
    [
        (0, 0, False, True),
        (0, 0, True, False),
        (0.1, 0, True, True),
        (-1e-12, 0, False, False),
        (math.inf, 0, False, False),
        (math.nan, 0, False, False),
        (True, 0, False, False),
        ("1", 0, False, False),
        (np.float64(2.0), 2, False, True),
    ],
    ids=repr,
)
def test_is_real_at_least_needs_a_finite_number_at_or_above_low(
    value: object, low: float, strict: bool, expected: bool
) -> None:
    assert is_real_at_least(value, low, strict=strict) is expected


# ---- one message form -------------------------------------------------------------------


def test_check_param_raises_in_the_single_message_form() -> None:
    with pytest.raises(alloc.InvalidParameterError) as info:
        check_param("seed", -1, "solve", False, "an integer >= 0")
    assert str(info.value) == "the 'seed' parameter of solve must be an integer >= 0; got -1."
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)
    check_param("seed", 1, "solve", True, "an integer >= 0")  # passes silently


def test_check_param_is_defined_once_in_validation() -> None:
    assert check_param.__module__ == "alloc.validation"
    assert not hasattr(errors, "check_param")


POSITIVE = Param(lambda v: is_int(v) and v > 0, "a positive integer")
DECLARED = {"k": POSITIVE, "name": Param(lambda v: isinstance(v, str), "a string")}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"k": 0, "name": 1}, "the 'k' parameter of f must be a positive integer; got 0."),
        ({"k": 2, "name": 1}, "the 'name' parameter of f must be a string; got 1."),
        ({"k": "2"}, "the 'k' parameter of f must be a positive integer; got '2'."),
        ({"k": True}, "the 'k' parameter of f must be a positive integer; got True."),
    ],
)
def test_check_params_reports_the_first_broken_constraint_in_declaration_order(
    values: dict[str, object], message: str
) -> None:
    with pytest.raises(alloc.InvalidParameterError) as info:
        check_params("f", DECLARED, values)
    assert str(info.value) == message


def test_check_params_skips_undeclared_and_absent_names() -> None:
    check_params("f", DECLARED, {"k": 1})
    check_params("f", DECLARED, {"k": 1, "name": "x", "other": object()})


# ---- one yes/no parser ------------------------------------------------------------------

YES = [True, np.bool_(True), 1, 1.0, np.int64(1), np.float32(1), "yes", "Yes", " YES ", "y"]
YES += ["true", "TRUE", "True", "1", " 1 "]
NO = [False, np.bool_(False), 0, 0.0, -0.0, np.int8(0), "no", "No", "n", "false", "FALSE"]
NO += ["0", "", "  ", None, math.nan, np.float64("nan"), pd.NA]
UNKNOWN = ["maybe", "yes please", "2", "1.0", "-1", "t", "f", "oui", 2, -1, 0.5, math.inf]
UNKNOWN += [object(), [1], b"yes"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [*((v, True) for v in YES), *((v, False) for v in NO), *((v, None) for v in UNKNOWN)],
    ids=repr,
)
def test_parse_flag_reads_yes_no_words_numbers_and_missing_values(
    value: object, expected: bool | None
) -> None:
    assert parse_flag(value) is expected


def test_flag_words_are_lower_case_and_cover_both_answers() -> None:
    assert all(word == word.strip().lower() for word in FLAG_WORDS)
    assert set(FLAG_WORDS.values()) == {True, False}


@pytest.mark.parametrize(
    "column",
    [
        pd.Series([True, False, True]),
        pd.Series([1, 0, 1]),
        pd.Series([1.0, 0.0, 1.0, math.nan]),
        pd.Series([True, None, False], dtype="boolean"),
        pd.Series(["yes", "No", "", None, " TRUE ", 0, 1.0]),
    ],
    ids=["bool", "int", "float-nan", "nullable-bool", "words"],
)
def test_parse_flags_agrees_with_parse_flag_for_every_column_type(column: pd.Series) -> None:
    expected = [parse_flag(v) for v in column.tolist()]
    got = parse_flags(column, column="key", what="customers")
    assert got.dtype == bool
    assert got.tolist() == expected


@pytest.mark.parametrize(
    ("values", "rows", "held"),
    [
        (["yes", "maybe", "no", "perhaps"], "'c2', 'c4'", "'maybe', 'perhaps'"),
        ([1, 2, 0, 2], "'c2', 'c4'", "2"),
        ([0.5, 1.0, 0.0, 1.0], "'c1'", "0.5"),
    ],
)
def test_parse_flags_names_the_column_the_rows_and_the_values_it_cannot_read(
    values: list[object], rows: str, held: str
) -> None:
    column = pd.Series(values, index=pd.Index(["c1", "c2", "c3", "c4"], name="customer_id"))
    with pytest.raises(alloc.InvalidProblemError) as info:
        parse_flags(column, column="key", what="customers")
    message = str(info.value)
    assert message.startswith("column 'key' of customers must hold yes/no values")
    assert f"rows {rows} hold {held}." in message


def test_parse_flags_reads_any_iterable_and_an_empty_one() -> None:
    assert parse_flags(["y", "n"], column="c", what="t").tolist() == [True, False]
    assert parse_flags([], column="c", what="t").tolist() == []


def test_named_items_names_lists_and_refuses_clashing_or_foreign_items() -> None:
    from alloc.validation import named_items

    kw = {"prefix": "p", "param": "things", "owner": "f", "expected": "ints"}
    assert named_items(5, int, **kw) == {"p0": 5}
    assert named_items({"a": 1, "b": 2}, int, **kw) == {"a": 1, "b": 2}
    with pytest.raises(alloc.InvalidParameterError, match="distinct names"):
        named_items({1: 1, "1": 2}, int, **kw)
    with pytest.raises(alloc.InvalidParameterError, match="'things' parameter of f"):
        named_items([1, "x"], int, **kw)
    with pytest.raises(alloc.InvalidParameterError):
        named_items([], int, **kw)
