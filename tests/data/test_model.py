"""Tests for alloc.data.model: the compiled arrays are read-only, also in other processes."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alloc
from alloc.data.model import Constraint, Imbalance, Model


def array_fields(obj: object) -> dict[str, np.ndarray]:
    return {
        f.name: getattr(obj, f.name)
        for f in dataclasses.fields(obj)  # type: ignore[arg-type]
        if isinstance(getattr(obj, f.name), np.ndarray)
    }


def every_array(model: Model) -> dict[str, np.ndarray]:
    arrays = {f"model.{k}": v for k, v in array_fields(model).items()}
    for i, con in enumerate(model.constraints):
        arrays |= {f"constraints[{i}].{k}": v for k, v in array_fields(con).items()}
    for i, term in enumerate(model.imbalances):
        arrays |= {f"imbalances[{i}].{k}": v for k, v in array_fields(term).items()}
    return arrays


@pytest.fixture(scope="module")
def model() -> Model:
    # Standard rules (Match, KeyAccounts, Capacity, AccountLimit) and two imbalance terms.
    return alloc.datasets.make_problem(60, 4, seed=0).model


def test_model_has_constraints_imbalances_and_every_array_field(model: Model) -> None:
    assert model.constraints and model.imbalances
    names = set(every_array(model))
    assert {"model.unit_start", "model.pair_unit", "model.pair_rep", "model.cost"} <= names
    assert {"model.customer_unit", "model.unit_size", "model.pair_key"} <= names
    assert {"constraints[0].weight", "constraints[0].lo", "constraints[0].hi"} <= names
    assert {"imbalances[0].value", "imbalances[0].share"} <= names


def test_every_model_array_is_read_only(model: Model) -> None:
    for name, array in every_array(model).items():
        assert not array.flags.writeable, name
        with pytest.raises(ValueError, match="read-only"):
            array[...] = 0


def test_every_model_array_stays_read_only_after_pickling(model: Model) -> None:
    copy = pickle.loads(pickle.dumps(model))
    arrays = every_array(copy)
    assert arrays.keys() == every_array(model).keys()
    for name, array in arrays.items():
        assert not array.flags.writeable, name
        np.testing.assert_array_equal(array, every_array(model)[name])


def test_building_rows_and_models_leaves_the_callers_arrays_writable(model: Model) -> None:
    weight, lo, hi = np.ones(3), np.zeros(3), np.full(3, 2.0)
    con = Constraint("rows", weight, lo, hi)
    assert not con.weight.flags.writeable and weight.flags.writeable
    share = np.array([1.0, 2.0])
    term = Imbalance("imbalance", "m", np.ones(3), share, 1.0, "max")
    assert not term.share.flags.writeable and share.flags.writeable
    price = np.arange(model.n_pairs, dtype=float)
    priced = dataclasses.replace(model, cost=price)
    assert not priced.cost.flags.writeable and price.flags.writeable
    np.testing.assert_array_equal(priced.pair_key, model.pair_key)


@given(st.integers(0, 10_000), st.integers(1, 8), st.integers(2, 40))
@settings(max_examples=30, deadline=None)
def test_pair_lookups_by_rep_and_by_unit_agree_with_pair_index(
    seed: int, n_reps: int, n_customers: int
) -> None:
    model = alloc.datasets.make_problem(n_customers, n_reps, seed=seed).model
    rng = np.random.default_rng(seed)
    units = rng.integers(0, model.n_units, 25)
    for rep in range(model.n_reps):
        expected = model.pair_index(units, np.full(units.size, rep))
        assert np.array_equal(model.pair_index_at(units, rep), expected)
    reps = rng.integers(0, model.n_reps, 25)
    for unit in range(model.n_units):
        expected = model.pair_index(np.full(reps.size, unit), reps)
        assert np.array_equal(model.pair_index_for(unit, reps), expected)
