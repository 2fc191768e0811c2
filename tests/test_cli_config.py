"""The command line's config schema and CSV reading: what they accept, and that
docs/cli.md lists the same tables and keys as the code."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest

import alloc
from alloc.cli_config import (
    ID_COLUMNS_KEYS,
    RULE_TYPES,
    SOLVE_KEYS,
    TERM_TYPES,
    TOP_LEVEL,
    accepted_keys,
    build_from_config,
    parse_config,
)
from alloc.cli_inputs import read_table

DOCS = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def _row(text: str, name: str) -> str:
    match = re.search(rf"^\| `{re.escape(name)}` \|(.*)$", text, flags=re.MULTILINE)
    assert match, f"docs/cli.md has no table row for {name}"
    return match.group(1)


def test_docs_list_every_table_type_and_key_the_config_accepts() -> None:
    text = DOCS.read_text()
    for written in TOP_LEVEL.values():
        assert f"`{written}`" in text
    for table, keys in (("[solve]", SOLVE_KEYS), ("[id_columns]", ID_COLUMNS_KEYS)):
        row = _row(text, table)
        assert all(f"`{key}`" in row for key in keys), (table, row)
    for name, cls in {**RULE_TYPES, **TERM_TYPES}.items():
        row = _row(text, name)
        accepted, required = accepted_keys(cls)
        for key in accepted:
            assert f"`{key}`" in row, (name, key)
        for key in required:
            assert f"**`{key}`**" in row, (name, key)


def test_the_config_example_in_the_docs_is_accepted() -> None:
    example = DOCS.read_text().split("```toml\n", 1)[1].split("```", 1)[0]
    spec = parse_config(tomllib.loads(example), "docs/cli.md")
    assert [type(r).__name__ for r in spec.rules] == ["Match", "KeyAccounts", "Balance"]
    assert spec.solve == {"time_limit": 30, "seed": 0}
    assert spec.id_columns == {"customer": "account_number", "rep": "employee_id"}


def test_toml_forms_of_lists_pairs_and_mappings_build_a_problem() -> None:
    config = tomllib.loads(
        """
        [[rules]]
        type = "Forbid"
        pairs = [["C000", "R00"], ["C001", "R01"]]
        [[rules]]
        type = "Pin"
        mapping = {C002 = "R03"}
        [[rules]]
        type = "KeyAccounts"
        flag_col = "key_account"
        levels = ["senior", "mid"]
        [[objective]]
        type = "MinimizeTravel"
        xy = ["x", "y"]
        weight = 0.001
        """
    )
    customers, reps = alloc.datasets.load_sample()
    problem = build_from_config(config, customers, reps, where="test.toml")
    assert problem.n_customers == 400 and len(problem.rules) == 3


def test_a_balance_tolerance_of_at_most_one_is_accepted() -> None:
    for tolerance in (0, 0.05, 1):
        entry = {"type": "Balance", "metric": "potential", "tolerance": tolerance}
        assert parse_config({"rules": [entry]}).rules[0].tolerance == tolerance


def test_a_tolerance_beyond_a_percentage_gets_no_suggestion() -> None:
    entry = {"type": "Balance", "metric": "potential", "tolerance": 250}
    with pytest.raises(alloc.InvalidProblemError, match=r"got 250\.$"):
        parse_config({"rules": [entry]}, "c.toml")


def test_build_from_config_names_the_config_in_its_errors() -> None:
    customers, reps = alloc.datasets.load_sample()
    with pytest.raises(alloc.InvalidProblemError, match=r"^mine.toml: \[\[objective\]\] #1"):
        build_from_config({"objective": [{"type": "Nope"}]}, customers, reps, where="mine.toml")


def test_read_table_accepts_a_byte_order_mark_and_windows_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b"\xef\xbb\xbfcustomer_id;potential\r\nc1;5\r\nc2;3\r\n")
    frame = read_table(str(path), "--customers", ";")
    assert list(frame.columns) == ["customer_id", "potential"]
    assert frame["potential"].tolist() == [5, 3]


def test_read_table_refuses_a_bom_file_with_another_separator(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b"\xef\xbb\xbfcustomer_id;potential\r\nc1;5\r\n")
    with pytest.raises(alloc.InvalidProblemError, match="--sep ';'"):
        read_table(str(path), "--customers")
    assert isinstance(read_table(str(path), "--customers", ";"), pd.DataFrame)


def _strip_files(tmp_path: Path) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    """Six customers on a 1 x 6 strip (each linked to the next), two reps with offices
    at the ends; the config names its neighbour and distance files by relative path."""
    ids = [f"C{i}" for i in range(6)]
    customers = pd.DataFrame({"customer_id": ids, "visits": [1, 1, 1, 1, 1, 1]})
    reps = pd.DataFrame({"rep_id": ["R1", "R2"], "office": ["C0", "C5"]})
    folder = tmp_path / "config"
    folder.mkdir()
    links = pd.DataFrame({"customer_id": ids[:-1], "neighbor_id": ids[1:]})
    links.to_csv(folder / "adjacency.csv", index=False)
    distance = pd.DataFrame(
        [(a, b, abs(i - j)) for i, a in enumerate(ids) for j, b in enumerate(ids)],
        columns=["unit", "centre", "km"],
    )
    distance.to_csv(folder / "km.csv", index=False)
    (folder / "rules.toml").write_text(
        '[[rules]]\ntype = "Contiguous"\nneighbors = "adjacency.csv"\nbase = "office"\n\n'
        '[[rules]]\ntype = "Balance"\nmetric = "visits"\ntolerance = 0.0\n\n'
        '[[objective]]\ntype = "MinimizeDispersion"\ndistances = "km.csv"\n'
    )
    return folder / "rules.toml", customers, reps


def test_territory_rules_read_their_files_relative_to_the_config(tmp_path: Path) -> None:
    from alloc.cli_config import read_config

    path, customers, reps = _strip_files(tmp_path)
    problem = build_from_config(read_config(str(path)), customers, reps, where=str(path))
    result = alloc.solve(problem, time_limit=10)
    # The only connected, balanced plan: the three customers nearest each office.
    assert result.status is alloc.Status.OPTIMAL
    assert result.objective == pytest.approx(2 * (0 + 1 + 2))
    assert alloc.check(problem, result.assignment) == []


def test_a_missing_territory_file_is_named_with_its_rule(tmp_path: Path) -> None:
    from alloc.cli_config import read_config

    path, _, _ = _strip_files(tmp_path)
    (path.parent / "adjacency.csv").unlink()
    with pytest.raises(alloc.InvalidProblemError) as info:
        parse_config(read_config(str(path)), str(path))
    message = str(info.value)
    assert "[[rules]] #1 (Contiguous) neighbors" in message and "adjacency.csv" in message
    assert "no such file" in message


def test_a_distances_file_with_a_pair_twice_is_refused(tmp_path: Path) -> None:
    from alloc.cli_config import read_config

    path, _, _ = _strip_files(tmp_path)
    km = pd.read_csv(path.parent / "km.csv")
    pd.concat([km, km.head(1)]).to_csv(path.parent / "km.csv", index=False)
    with pytest.raises(alloc.InvalidProblemError, match=r"\(unit, centre\) pairs twice"):
        parse_config(read_config(str(path)), str(path))
