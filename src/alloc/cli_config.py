"""The TOML config of ``alloc solve``: its schema, and the checks that name a wrong table,
key or value (with the accepted keys and a did-you-mean) before any table is read.

A config has ``[[rules]]`` and ``[[objective]]`` entries (``type =`` a rule or term class
name, the other keys its arguments), an optional ``[solve]`` table and an optional
``[id_columns]`` table. :func:`parse_config` checks all of it and builds the rule and term
objects; :func:`build_from_config` adds the tables and returns the :class:`~alloc.Problem`.
"""

from __future__ import annotations

import difflib
import inspect
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from alloc import objectives, priority_rules, territory_rules
from alloc import rules as rules_module
from alloc.cli_inputs import COMMA_POINT, CsvFormat, read_table
from alloc.data.problem import Problem
from alloc.errors import AllocError, InvalidProblemError
from alloc.validation import Param, fraction_error, is_int, is_real_at_least

__all__ = [
    "FRACTIONS",
    "ID_COLUMNS_KEYS",
    "RULE_TYPES",
    "SOLVE_KEYS",
    "TABLE_KEYS",
    "TERM_KEYS",
    "TERM_TYPES",
    "TOP_LEVEL",
    "ConfigSpec",
    "accepted_keys",
    "build_from_config",
    "closest",
    "parse_config",
    "read_config",
    "unknown",
]

RULE_TYPES: dict[str, type] = {
    name: getattr(rules_module, name)
    for name in (
        "Match",
        "KeyAccounts",
        "Capacity",
        "AccountLimit",
        "Balance",
        "Spread",
        "Pin",
        "Forbid",
        "Together",
    )
}
RULE_TYPES["Contiguous"] = territory_rules.Contiguous
RULE_TYPES["Budget"] = priority_rules.Budget
TERM_TYPES: dict[str, type] = {
    name: getattr(objectives, name)
    for name in (
        "MinimizeImbalance",
        "MaximizeFit",
        "MinimizeCost",
        "MinimizeDisruption",
        "MinimizeTravel",
    )
}
TERM_TYPES["MinimizeDispersion"] = territory_rules.MinimizeDispersion
TERM_TYPES["Lexicographic"] = priority_rules.Lexicographic

#: Keys whose TOML value is an objective term written as an inline table
#: (``term = {type = "MinimizeTravel"}``), or, for ``stages``, a list of stages, each a
#: term's table or a list of them (a sum).
TERM_KEYS: dict[tuple[str, str], str] = {
    ("Budget", "term"): "a term",
    ("Lexicographic", "stages"): "a list of stages",
}

#: Keys whose TOML value is the path of a CSV file (relative to the config's folder),
#: read into the table the class expects, and what the file holds.
TABLE_KEYS: dict[tuple[str, str], str] = {
    ("Contiguous", "neighbors"): "two columns of customer ids (customer_id, neighbor_id)",
    ("MinimizeDispersion", "distances"): (
        "three columns: unit id, centre unit id, distance (one row per pair)"
    ),
}

#: The top-level names of a config and how each is written in TOML.
TOP_LEVEL: dict[str, str] = {
    "rules": "[[rules]]",
    "objective": "[[objective]]",
    "solve": "[solve]",
    "id_columns": "[id_columns]",
}


def _positive_seconds(value: object) -> bool:
    return is_real_at_least(value, 0, strict=True)


#: Keys of ``[solve]`` (command-line options override them).
SOLVE_KEYS: dict[str, Param] = {
    "time_limit": Param(_positive_seconds, "a positive number of seconds"),
    "seed": Param(is_int, "an integer"),
    "workers": Param(lambda v: is_int(v) and v >= 1, "a positive integer"),
}

#: Keys of ``[id_columns]``: the names of the id columns of the tables.
ID_COLUMNS_KEYS: dict[str, Param] = {
    "customer": Param(lambda v: isinstance(v, str) and v != "", "a column name"),
    "rep": Param(lambda v: isinstance(v, str) and v != "", "a column name"),
}

#: Rule and term parameters read as fractions on the command line (0.05 = 5 %), where a
#: value above 1 is almost surely a percentage.
FRACTIONS: dict[str, tuple[str, ...]] = {"Balance": ("tolerance",)}


@dataclass(frozen=True)
class ConfigSpec:
    """A checked config: rule and term objects, ``[solve]`` options and id columns."""

    rules: list[Any] = field(default_factory=list)
    objective: list[Any] = field(default_factory=list)
    solve: dict[str, Any] = field(default_factory=dict)
    id_columns: dict[str, str] | None = None


def closest(word: object, choices: Sequence[str]) -> str | None:
    """The choice closest to ``word`` (case ignored, via :mod:`difflib`), or ``None``.

    Examples
    --------
    >>> closest("time_limt", ["time_limit", "seed"]), closest("colour", ["seed"])
    ('time_limit', None)
    """
    if not isinstance(word, str):
        return None
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


def unknown(
    what: str, word: object, choices: Mapping[str, str] | Sequence[str], noun: str = "keys"
) -> str:
    """``"unknown <what>; did you mean 'y'? Accepted <noun>: a, b."`` for a message.

    ``choices`` maps each accepted name to how it is shown (or lists the names).

    Examples
    --------
    >>> unknown("key 'seeed'", "seeed", ["time_limit", "seed"])
    "unknown key 'seeed'; did you mean 'seed'? Accepted keys: time_limit, seed."
    """
    shown = dict(choices) if isinstance(choices, Mapping) else {c: c for c in choices}
    listed = f"{noun}: {', '.join(shown.values())}."
    best = closest(word, list(shown))
    if best is None:
        return f"unknown {what}; accepted {listed}"
    suggestion = shown[best] if isinstance(choices, Mapping) else repr(best)
    return f"unknown {what}; did you mean {suggestion}? Accepted {listed}"


def accepted_keys(cls: type) -> tuple[list[str], list[str]]:
    """The keys a ``[[rules]]``/``[[objective]]`` entry of type ``cls`` accepts, and the
    required ones (both besides ``type``).

    Examples
    --------
    >>> accepted_keys(rules_module.Capacity)
    (['metric', 'limit'], ['metric', 'limit'])
    """
    # The constructor's signature, not the dataclass fields: a class with its own
    # __init__ (Contiguous) keeps fields that are not arguments.
    params = [
        p
        for p in inspect.signature(cls).parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and not p.name.startswith("_")
    ]
    required = [p.name for p in params if p.default is inspect.Parameter.empty]
    return [p.name for p in params], required


def read_config(path: str) -> dict[str, Any]:
    """Read the TOML file given to ``--config``; raise naming the file and the problem.

    Raises
    ------
    InvalidProblemError
        When the file is missing, a directory, not UTF-8 text or not valid TOML.
    """
    file = Path(path)
    if not file.exists():
        raise InvalidProblemError(f"--config {path!r}: no such file; check the path.")
    if file.is_dir():
        raise InvalidProblemError(f"--config {path!r} is a directory; name the TOML file.")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidProblemError(
            f"--config {path!r} is not UTF-8 text; save it as a plain-text TOML file."
        ) from exc
    except OSError as exc:
        raise InvalidProblemError(f"--config {path!r} cannot be read: {exc.strerror}.") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidProblemError(
            f"{path}: invalid TOML: {exc}; see the config format in docs/cli.md."
        ) from exc


def _check_top_level(config: Mapping[str, Any], where: str) -> None:
    for key in config:
        if key in TOP_LEVEL:
            continue
        if key in SOLVE_KEYS:
            raise InvalidProblemError(
                f"{where}: {key!r} belongs in the [solve] table; write [solve] on the line "
                f"above it."
            )
        raise InvalidProblemError(f"{where}: {unknown(f'table {key!r}', key, TOP_LEVEL, 'tables')}")
    for key in ("rules", "objective"):
        entries = config.get(key, [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise InvalidProblemError(
                f"{where}: {key!r} must be a list of tables: write [[{key}]] (double "
                f"brackets) above each entry."
            )
    for key in ("solve", "id_columns"):
        if not isinstance(config.get(key, {}), dict):
            raise InvalidProblemError(
                f"{where}: {key!r} must be one table: write [{key}] (single brackets) once."
            )


def _check_table(table: Mapping[str, Any], declared: Mapping[str, Param], name: str) -> None:
    """Keys and values of a fixed table (``[solve]``, ``[id_columns]``)."""
    for key, value in table.items():
        if key not in declared:
            raise InvalidProblemError(unknown(f"key {key!r} in {name}", key, list(declared)))
        param = declared[key]
        if not param.test(value):
            raise InvalidProblemError(f"{key} in {name} must be {param.expected}; got {value!r}.")


def _check_fraction(type_name: str, params: Mapping[str, Any]) -> None:
    """The fraction check of the classes themselves, worded for a TOML key."""
    for key in FRACTIONS.get(type_name, ()):
        value = params.get(key)
        if not is_real_at_least(value, 0):
            continue  # a non-number is left to the class's own check
        error = fraction_error(value)
        if error is not None:
            raise InvalidProblemError(f"{key} {error}")


def _read_tables(
    name: str, params: dict[str, Any], label: str, folder: Path, csv: CsvFormat
) -> None:
    """Replace the file paths of ``TABLE_KEYS`` in ``params`` by the tables they hold."""
    for (owner, key), holds in TABLE_KEYS.items():
        if owner != name or key not in params:
            continue
        path = params[key]
        if not isinstance(path, str) or not path:
            raise InvalidProblemError(
                f"{label}: {key} must be the path of a CSV file with {holds}; got {path!r}."
            )
        file = Path(path) if Path(path).is_absolute() else folder / path
        frame = read_table(str(file), f"{label} {key}", csv.sep, csv.decimal)
        if key == "distances":
            if frame.shape[1] < 3:
                raise InvalidProblemError(
                    f"{label}: {key} file {str(file)!r} has {frame.shape[1]} columns; it "
                    f"needs {holds}."
                )
            unit, centre, value = frame.columns[:3]
            if frame.duplicated([unit, centre]).any():
                raise InvalidProblemError(
                    f"{label}: {key} file {str(file)!r} gives some ({unit}, {centre}) pairs "
                    "twice; keep one row per pair."
                )
            frame = frame.pivot(index=unit, columns=centre, values=value)
        params[key] = frame


def _term(value: Any, label: str, folder: Path, csv: CsvFormat) -> Any:
    """A term written as an inline table inside another entry."""
    if not isinstance(value, dict):
        raise InvalidProblemError(
            f"{label} must be an inline table naming an objective term, e.g. "
            f'{{type = "MinimizeTravel"}}; got {value!r}.'
        )
    return _build(label, value, TERM_TYPES, "objective", folder, csv)


def _nested_terms(
    name: str, params: dict[str, Any], label: str, folder: Path, csv: CsvFormat
) -> None:
    """Replace the inline tables of ``TERM_KEYS`` in ``params`` by the terms they name."""
    if (name, "term") in TERM_KEYS and "term" in params:
        params["term"] = _term(params["term"], f"{label} term", folder, csv)
    if (name, "stages") in TERM_KEYS and "stages" in params:
        stages = params["stages"]
        if not isinstance(stages, list) or not stages:
            raise InvalidProblemError(
                f"{label}: stages must be a list of stages, each an inline table naming a "
                f'term ({{type = "MinimizeTravel"}}) or a list of them; got {stages!r}.'
            )
        params["stages"] = [
            [_term(t, f"{label} stage {i}", folder, csv) for t in stage]
            if isinstance(stage, list)
            else _term(stage, f"{label} stage {i}", folder, csv)
            for i, stage in enumerate(stages, 1)
        ]


def _make(
    kind: str,
    index: int,
    entry: Mapping[str, Any],
    known: Mapping[str, type],
    folder: Path = Path(),
    csv: CsvFormat = COMMA_POINT,
) -> Any:
    """One rule or term from its ``[[kind]]`` table (``index`` counts from 1); file
    paths in it are read relative to ``folder``."""
    return _build(f"[[{kind}]] #{index}", entry, known, kind, folder, csv)


def _build(
    label: str,
    entry: Mapping[str, Any],
    known: Mapping[str, type],
    kind: str,
    folder: Path,
    csv: CsvFormat,
) -> Any:
    other = TERM_TYPES if kind == "rules" else RULE_TYPES
    what = "rule" if kind == "rules" else "objective term"
    params = dict(entry)
    name = params.pop("type", None)
    if name is None:
        raise InvalidProblemError(f"{label} has no type; add type = one of {', '.join(known)}.")
    if name not in known:
        if name in other:
            place = "[[objective]]" if kind == "rules" else "[[rules]]"
            article = "an" if what.startswith("o") else "a"
            raise InvalidProblemError(
                f"{label}: {name!r} is not {article} {what}; move it under {place}."
            )
        raise InvalidProblemError(
            f"{label}: {unknown(f'{what} type {name!r}', name, list(known), 'types')}"
        )
    label = f"{label} ({name})"
    accepted, required = accepted_keys(known[name])
    for key in params:
        if key not in accepted:
            raise InvalidProblemError(
                f"{label}: {unknown(f'key {key!r}', key, ['type', *accepted])}"
            )
    missing = [key for key in required if key not in params]
    if missing:
        raise InvalidProblemError(
            f"{label}: missing key {missing[0]!r}; {name} needs {', '.join(required)}."
        )
    _read_tables(name, params, label, folder, csv)
    _nested_terms(name, params, label, folder, csv)
    try:
        _check_fraction(name, params)
        return known[name](**params)
    except AllocError as exc:
        raise InvalidProblemError(f"{label}: {exc}") from exc
    except (TypeError, ValueError) as exc:  # a value of a type the class cannot take
        raise InvalidProblemError(f"{label}: {exc}") from exc


def parse_config(
    config: Mapping[str, Any], where: str = "config", sep: str = ",", decimal: str = "."
) -> ConfigSpec:
    """Check a parsed config and build its rules and terms, before the main tables are read.

    Unknown tables and keys (in any table) are refused with the accepted ones listed and
    the closest one suggested; ``[solve]`` and ``[id_columns]`` values are checked; rule
    and term arguments are checked by their classes, and fractions (a ``Balance``
    tolerance) must lie between 0 and 1. Keys that name a CSV file (``TABLE_KEYS``:
    ``Contiguous``'s ``neighbors``, ``MinimizeDispersion``'s ``distances``) are read
    here, relative to the folder of ``where`` when it is a file, with separator ``sep``
    and decimal mark ``decimal``.

    Raises
    ------
    InvalidProblemError
        Naming ``where``, the table (``[[rules]] #2 (Capacity)``), the key and the fix.

    Examples
    --------
    >>> try:
    ...     parse_config({"solve": {"time_limt": 10}}, "rules.toml")
    ... except InvalidProblemError as exc:
    ...     print(*str(exc).split("; "), sep="\\n")
    rules.toml: unknown key 'time_limt' in [solve]
    did you mean 'time_limit'? Accepted keys: time_limit, seed, workers.
    """
    try:
        _check_top_level(config, where)
        solve_options = dict(config.get("solve", {}))
        _check_table(solve_options, SOLVE_KEYS, "[solve]")
        id_columns = config.get("id_columns")
        if id_columns is not None:
            _check_table(id_columns, ID_COLUMNS_KEYS, "[id_columns]")
        folder = Path(where).parent if Path(where).is_file() else Path()
        csv = CsvFormat(sep, decimal)
        rules = [
            _make("rules", i, e, RULE_TYPES, folder, csv)
            for i, e in enumerate(config.get("rules", []), 1)
        ]
        terms = [
            _make("objective", i, e, TERM_TYPES, folder, csv)
            for i, e in enumerate(config.get("objective", []), 1)
        ]
    except InvalidProblemError as exc:
        message = str(exc)
        raise InvalidProblemError(
            message if message.startswith(f"{where}:") else f"{where}: {message}"
        ) from exc
    return ConfigSpec(rules, terms, solve_options, None if id_columns is None else dict(id_columns))


def build_from_config(
    config: dict[str, Any],
    customers: pd.DataFrame,
    reps: pd.DataFrame,
    pairs: pd.DataFrame | None = None,
    where: str = "config",
) -> Problem:
    """A Problem from a parsed TOML config with ``[[rules]]`` and ``[[objective]]`` tables.

    The config is checked first by :func:`parse_config` (unknown tables or keys, unknown
    types, bad values), then the tables by :class:`~alloc.Problem`.

    Parameters
    ----------
    config : dict
        The parsed TOML (``tomllib.loads``).
    customers, reps, pairs : pandas.DataFrame
        The tables, as for :class:`~alloc.Problem`.
    where : str
        The config's name in error messages (its path).

    Raises
    ------
    InvalidProblemError
        On a bad config or bad tables; the message names the table, key or column.

    Examples
    --------
    >>> import tomllib, alloc
    >>> config = tomllib.loads('''
    ... [[rules]]
    ... type = "Capacity"
    ... metric = "workload"
    ... limit = "capacity"
    ... [[objective]]
    ... type = "MinimizeImbalance"
    ... metric = "potential"
    ... ''')
    >>> customers, reps = alloc.datasets.load_sample()
    >>> build_from_config(config, customers, reps)
    Problem(400 customers, 12 reps, 4,800 eligible pairs, 1 rules, 1 objective terms)
    """
    spec = parse_config(config, where)
    return Problem(
        customers,
        reps,
        pairs=pairs,
        rules=spec.rules,
        objective=spec.objective,
        id_columns=spec.id_columns,
    )
