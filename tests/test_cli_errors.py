"""A corpus of command-line mistakes, each named after its defect.

Every mistake must end ``alloc`` with exit code 2 and one line on stderr naming the
culprit (option, file, table, key or column), before any solving, with no traceback and
no file written or changed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import alloc
import alloc.cli
import alloc.comparison
from alloc.cli import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, main
from conftest import CLI_CONFIG as CONFIG

OBJECTIVE = '[[objective]]\ntype = "MinimizeImbalance"\nmetric = "potential"\n'

Files = dict[str, Path]


def args(f: Files, **changes: str | None) -> list[str]:
    """``alloc solve`` arguments for the files, with options changed (None: left out)."""
    options: dict[str, str | None] = {
        "--customers": str(f["customers"]),
        "--reps": str(f["reps"]),
        "--config": str(f["config"]),
        "-o": str(f["out"]),
    }
    options.update({f"--{k}" if len(k) > 1 else f"-{k}": v for k, v in changes.items()})
    argv = ["solve", "--quiet"]
    for option, value in options.items():
        if value is not None:
            argv += [option, value]
    return argv


def write(f: Files, which: str, content: str | bytes, name: str | None = None) -> Path:
    """Write ``content`` to a new file ``name`` (or over the file ``which``); return it."""
    path = f[which] if name is None else f["out"].parent / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def config(f: Files, text: str) -> list[str]:
    write(f, "config", text)
    return args(f)


def table(f: Files, which: str, content: str | bytes, name: str, **changes: str) -> list[str]:
    path = write(f, which, content, name)
    return args(f, **{which: str(path)}, **changes)


def semicolon_customers(f: Files) -> str:
    return pd.read_csv(f["customers"]).to_csv(index=False, sep=";")


def german_csv(frame: pd.DataFrame) -> str:
    """A table as a German spreadsheet saves it: ';' between fields, numbers such as
    48.433,45 (pandas writes no thousands mark; the spreadsheet does)."""
    out = frame.copy()
    for column in out.select_dtypes("float").columns:
        out[column] = [f"{v:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
                       for v in out[column]]  # fmt: skip
    return out.to_csv(index=False, sep=";")


def decimal_comma_files(f: Files) -> list[str]:
    """Both tables with decimal commas, read with --sep ';' but no --decimal."""
    write(f, "customers", german_csv(pd.read_csv(f["customers"])))
    write(f, "reps", german_csv(pd.read_csv(f["reps"])))
    return args(f, sep=";")


def tab_customers(f: Files) -> str:
    return pd.read_csv(f["customers"]).to_csv(index=False, sep="\t")


def header_only(f: Files, which: str) -> str:
    return f[which].read_text().splitlines()[0] + "\n"


def output_under_a_file(f: Files) -> list[str]:
    return args(f, o=str(f["customers"] / "plan.csv"))


def a_directory(f: Files, name: str) -> str:
    path = f["out"].parent / name
    path.mkdir()
    return str(path)


# (make the arguments from the valid files, texts the one-line message must contain)
CORPUS: list[Any] = [
    # --- the command line itself
    pytest.param(lambda f: args(f, config=None), ["--config", "[[objective]]"], id="no-config"),
    pytest.param(lambda f: args(f, o=None), ["--output"], id="no-output-option"),
    pytest.param(
        lambda f: [*args(f), "--time-limit", "-1"], ["--time-limit", "'-1'"], id="negative-time"
    ),
    pytest.param(
        lambda f: [*args(f), "--time-limit", "ten"], ["--time-limit", "'ten'"], id="text-time"
    ),
    pytest.param(lambda f: [*args(f), "--sep", "ab"], ["--sep", "'ab'"], id="bad-separator"),
    pytest.param(lambda f: [*args(f), "--colour"], ["--colour"], id="unknown-option"),
    # --- input tables
    pytest.param(
        lambda f: args(f, customers=str(f["out"].parent / "nope.csv")),
        ["--customers", "nope.csv", "no such file"],
        id="customers-missing-file",
    ),
    pytest.param(
        lambda f: args(f, reps=str(f["out"].parent / "nope.csv")),
        ["--reps", "nope.csv", "no such file"],
        id="reps-missing-file",
    ),
    pytest.param(
        lambda f: args(f, pairs=str(f["out"].parent / "pairs.csv")),
        ["--pairs", "pairs.csv", "no such file"],
        id="pairs-missing-file",
    ),
    pytest.param(
        lambda f: args(f, customers=a_directory(f, "data")),
        ["--customers", "is a directory"],
        id="customers-is-a-directory",
    ),
    pytest.param(
        lambda f: table(f, "customers", "", "c.csv"),
        ["--customers", "c.csv", "empty (0 bytes)"],
        id="customers-0-bytes",
    ),
    pytest.param(
        lambda f: table(f, "reps", "\n  \n", "r.csv"),
        ["--reps", "r.csv", "empty"],
        id="reps-blank-lines-only",
    ),
    pytest.param(
        lambda f: table(f, "customers", header_only(f, "customers"), "c.csv"),
        ["--customers", "c.csv", "no rows"],
        id="customers-header-only",
    ),
    pytest.param(
        lambda f: table(f, "reps", header_only(f, "reps"), "r.csv"),
        ["--reps", "r.csv", "no rows"],
        id="reps-header-only",
    ),
    pytest.param(
        lambda f: table(
            f, "customers", pd.read_csv(f["customers"]).to_json(orient="records"), "c.json"
        ),
        ["--customers", "c.json", "JSON, not CSV"],
        id="customers-json-records",
    ),
    pytest.param(
        lambda f: table(f, "reps", pd.read_csv(f["reps"]).to_json(), "r.json"),
        ["--reps", "r.json", "JSON"],
        id="reps-json-columns",
    ),
    pytest.param(
        lambda f: table(f, "customers", b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40, "c.xlsx"),
        ["--customers", "c.xlsx", "Excel", "CSV"],
        id="customers-excel-workbook",
    ),
    pytest.param(
        lambda f: table(f, "customers", b"customer_id\x00potential\n\x01\x02", "c.bin"),
        ["--customers", "c.bin", "binary"],
        id="customers-binary",
    ),
    pytest.param(
        lambda f: table(
            f,
            "customers",
            "customer_id,potential\nc1,5\nM\u00fcller,3\n".encode("latin-1"),
            "c.csv",
        ),
        ["--customers", "c.csv", "UTF-8"],
        id="customers-latin-1",
    ),
    pytest.param(
        lambda f: table(f, "customers", semicolon_customers(f), "c.csv"),
        ["--customers", "c.csv", "--sep ';'"],
        id="customers-semicolon-separated",
    ),
    pytest.param(
        lambda f: table(f, "customers", tab_customers(f), "c.tsv"),
        ["--customers", "c.tsv", "--sep tab"],
        id="customers-tab-separated",
    ),
    pytest.param(
        lambda f: [*args(f), "--sep", ";"],
        ["--customers", "--sep ','"],
        id="sep-given-for-a-comma-file",
    ),
    pytest.param(
        lambda f: decimal_comma_files(f),
        ["must be numeric", "decimal comma", "--decimal ','"],
        id="customers-decimal-comma-without-decimal",
    ),
    pytest.param(
        lambda f: [*args(f), "--decimal", ","],
        ["--decimal ','", "field separator", "--sep ';'"],
        id="decimal-comma-with-comma-separator",
    ),
    pytest.param(
        lambda f: [*args(f), "--decimal", "x"],
        ["decimal mark", "'x'"],
        id="decimal-mark-unknown",
    ),
    pytest.param(
        lambda f: table(f, "reps", "rep_id,capacity\nr1,10\nr2,10,extra,fields\n", "r.csv"),
        ["--reps", "r.csv", "not valid CSV"],
        id="reps-ragged-rows",
    ),
    # --- the output path
    pytest.param(
        lambda f: args(f, o=a_directory(f, "out")), ["-o", "out", "directory"], id="output-is-dir"
    ),
    pytest.param(
        lambda f: args(f, o=str(f["out"].parent / "results") + os.sep),
        ["-o", "results", "directory"],
        id="output-ends-with-a-slash",
    ),
    pytest.param(output_under_a_file, ["-o", "customers.csv", "is a file"], id="output-under-file"),
    pytest.param(
        lambda f: args(f, o=str(f["out"].parent / "missing" / "plan.csv")),
        ["-o", "missing", "does not exist"],
        id="output-in-missing-directory",
    ),
    pytest.param(
        lambda f: args(f, o=str(f["customers"])),
        ["-o", "customers.csv", "--customers", "overwrite"],
        id="output-is-the-customers-file",
    ),
    pytest.param(
        lambda f: args(f, o=str(f["config"])),
        ["-o", "rules.toml", "--config"],
        id="output-is-the-config",
    ),
    # --- the config file
    pytest.param(
        lambda f: args(f, config=str(f["out"].parent / "nope.toml")),
        ["--config", "nope.toml", "no such file"],
        id="config-missing-file",
    ),
    pytest.param(
        lambda f: args(f, config=a_directory(f, "conf")),
        ["--config", "conf", "directory"],
        id="config-is-a-directory",
    ),
    pytest.param(
        lambda f: config(f, '[[rules]\ntype = "Capacity"\n'),
        ["rules.toml", "invalid TOML", "line 1"],
        id="config-invalid-toml",
    ),
    pytest.param(
        lambda f: table(f, "config", b"[solve]\n# caf\xe9\ntime_limit = 1\n", "c.toml"),
        ["--config", "c.toml", "UTF-8"],
        id="config-not-utf-8",
    ),
    pytest.param(
        lambda f: config(f, CONFIG.replace("[[objective]]", "[[objectives]]")),
        ["'objectives'", "did you mean [[objective]]", "[solve]"],
        id="config-unknown-table",
    ),
    pytest.param(
        lambda f: config(f, "time_limit = 10\n" + OBJECTIVE),
        ["'time_limit'", "[solve]"],
        id="config-solve-key-at-top-level",
    ),
    pytest.param(
        lambda f: config(f, '[rules]\ntype = "Capacity"\nmetric = "workload"\nlimit = 5\n'),
        ["'rules'", "[[rules]]", "double brackets"],
        id="config-rules-in-single-brackets",
    ),
    pytest.param(
        lambda f: config(f, OBJECTIVE + "[[solve]]\ntime_limit = 1\n"),
        ["'solve'", "[solve]", "single brackets"],
        id="config-solve-in-double-brackets",
    ),
    pytest.param(
        lambda f: config(f, CONFIG.replace("time_limit = 1", "time_limt = 10")),
        ["unknown key 'time_limt' in [solve]", "did you mean 'time_limit'", "seed"],
        id="solve-key-typo",
    ),
    pytest.param(
        lambda f: config(f, CONFIG.replace("time_limit = 1", 'time_limit = "10"')),
        ["time_limit", "[solve]", "'10'"],
        id="solve-time-limit-as-text",
    ),
    pytest.param(
        lambda f: config(f, CONFIG.replace("time_limit = 1", "time_limit = -5")),
        ["time_limit", "[solve]", "positive"],
        id="solve-time-limit-negative",
    ),
    pytest.param(
        lambda f: config(f, CONFIG.replace("time_limit = 1", "seed = 1.5")),
        ["seed", "[solve]", "integer"],
        id="solve-seed-not-an-integer",
    ),
    pytest.param(
        lambda f: config(f, CONFIG.replace("time_limit = 1", "workers = 0")),
        ["workers", "[solve]"],
        id="solve-no-workers",
    ),
    pytest.param(
        lambda f: config(f, CONFIG + '[id_columns]\ncustomers = "cid"\n'),
        ["'customers'", "[id_columns]", "did you mean 'customer'"],
        id="id-columns-key-typo",
    ),
    pytest.param(
        lambda f: config(f, CONFIG.replace('limit = "capacity"', 'limt = "capacity"')),
        ["[[rules]] #2 (Capacity)", "'limt'", "did you mean 'limit'"],
        id="rule-key-typo",
    ),
    pytest.param(
        lambda f: config(f, CONFIG.replace('metric = "potential"', 'metirc = "potential"')),
        ["[[objective]] #1 (MinimizeImbalance)", "'metirc'", "did you mean 'metric'"],
        id="objective-key-typo",
    ),
    pytest.param(
        lambda f: config(f, CONFIG.replace('limit = "capacity"\n', "")),
        ["[[rules]] #2 (Capacity)", "missing key 'limit'"],
        id="rule-missing-key",
    ),
    pytest.param(
        lambda f: config(f, CONFIG.replace('type = "Match"\n', "")),
        ["[[rules]] #1", "no type"],
        id="rule-without-type",
    ),
    pytest.param(
        lambda f: config(f, CONFIG.replace('"Capacity"', '"Capcity"')),
        ["[[rules]] #2", "'Capcity'", "did you mean 'Capacity'"],
        id="rule-type-typo",
    ),
    pytest.param(
        lambda f: config(f, CONFIG.replace('"MinimizeImbalance"', '"MinimiseImbalance"')),
        ["[[objective]] #1", "'MinimiseImbalance'", "did you mean 'MinimizeImbalance'"],
        id="objective-type-typo",
    ),
    pytest.param(
        lambda f: config(f, '[[rules]]\ntype = "MinimizeImbalance"\nmetric = "potential"\n'),
        ["[[rules]] #1", "'MinimizeImbalance'", "[[objective]]"],
        id="objective-term-under-rules",
    ),
    pytest.param(
        lambda f: config(f, '[[objective]]\ntype = "Together"\ngroup_col = "region"\n'),
        ["[[objective]] #1", "'Together'", "[[rules]]"],
        id="rule-under-objective",
    ),
    pytest.param(
        lambda f: config(
            f, OBJECTIVE + '[[rules]]\ntype = "Balance"\nmetric = "potential"\ntolerance = 5\n'
        ),
        ["[[rules]] #1 (Balance)", "tolerance must be a fraction between 0 and 1", "0.05?"],
        id="tolerance-as-a-percentage",
    ),
    pytest.param(
        lambda f: config(
            f, CONFIG.replace('metric = "potential"', 'metric = "potential"\nnorm = "l2"')
        ),
        ["[[objective]] #1 (MinimizeImbalance)", "'norm'", "'l2'"],
        id="objective-bad-value",
    ),
    pytest.param(
        lambda f: config(
            f, CONFIG.replace('rep_col = "skills"', 'rep_col = "skills"\nmissing = 1')
        ),
        ["[[rules]] #1 (Match)", "'missing'"],
        id="rule-bad-value",
    ),
    # --- the tables against the config (checked when the problem is built)
    pytest.param(
        lambda f: config(f, CONFIG.replace('metric = "workload"', 'metric = "hours"')),
        ["'hours'"],
        id="rule-names-a-missing-column",
    ),
    pytest.param(
        lambda f: config(f, CONFIG + '[[rules]]\ntype = "Pin"\nmapping = {C000 = "R99"}\n'),
        ["Pin", "'R99'"],
        id="pin-to-an-unknown-rep",
    ),
    pytest.param(
        lambda f: config(f, CONFIG + '[id_columns]\ncustomer = "cid"\n'),
        ["'cid'", "customers"],
        id="id-column-not-in-the-table",
    ),
    # --- the other commands check their outputs before running
    pytest.param(
        lambda f: ["demo", "--output-dir", str(f["customers"]), "--quiet"],
        ["--output-dir", "customers.csv", "is a file"],
        id="demo-output-dir-is-a-file",
    ),
    pytest.param(
        lambda f: ["bench", "--sizes", "0", "-o", str(f["out"].parent / "no" / "b.csv")],
        ["-o", "does not exist"],
        id="bench-output-in-missing-directory",
    ),
    pytest.param(lambda f: ["bench", "--seeds", "0"], ["--seeds", "'0'"], id="bench-no-seeds"),
]


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its content (None for directories)."""
    return {
        str(p.relative_to(root)): None if p.is_dir() else p.read_bytes() for p in root.rglob("*")
    }


@pytest.fixture
def no_solving(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record any start of the solver or of the policy comparison (there must be none)."""
    started: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        started.append("solve")
        raise AssertionError("solving started")

    monkeypatch.setattr(alloc.cli, "solve", refuse)
    monkeypatch.setattr(alloc.comparison, "compare", refuse)
    return started


@pytest.mark.parametrize(("make_args", "culprits"), CORPUS)
def test_mistake_exits_2_with_one_line_naming_the_culprit_before_solving(
    make_args: Callable[[Files], list[str]],
    culprits: list[str],
    files: Files,
    no_solving: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = make_args(files)
    before = snapshot(files["out"].parent)
    assert main(argv) == EXIT_BAD_INPUT
    out, err = capsys.readouterr()
    assert no_solving == []
    assert "Traceback" not in err
    assert err.endswith("\n") and err.count("\n") == 1, err  # one line
    assert err.startswith("alloc"), err
    assert " error: " in err, err
    for culprit in culprits:
        assert culprit in err, (culprit, err)
    assert out == ""
    assert snapshot(files["out"].parent) == before  # nothing written or changed
    assert not files["out"].exists()


def _ids(*names: str) -> list[Any]:
    return [p for p in CORPUS if p.id in names]


def _run_cli(argv: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(alloc.__file__).parents[1])}
    return subprocess.run(
        [sys.executable, "-m", "alloc.cli", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("make_args", "culprits"),
    _ids(
        "no-config",
        "customers-0-bytes",
        "output-is-dir",
        "solve-key-typo",
        "tolerance-as-a-percentage",
    ),
)
def test_mistake_in_a_real_process_prints_one_line_and_no_traceback(
    make_args: Callable[[Files], list[str]], culprits: list[str], files: Files
) -> None:
    argv = make_args(files)
    before = snapshot(files["out"].parent)
    done = _run_cli(argv)
    assert done.returncode == EXIT_BAD_INPUT
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    for culprit in culprits:
        assert culprit in done.stderr
    assert snapshot(files["out"].parent) == before


def test_the_corpus_names_each_mistake_once() -> None:
    ids = [p.id for p in CORPUS]
    assert len(ids) == len(set(ids))


def test_a_warning_is_one_cli_line_without_python_source_lines(files: Files) -> None:
    # A rep skill that no customer has ("healtcare") draws a DataWarning from alloc.
    files["customers"].write_text(
        "customer_id,potential,industry\nc1,10,health\nc2,7,retail\nc3,5,health\n"
        "c4,13,retail\nc5,9,health\n"
    )
    files["reps"].write_text("rep_id,skills\nr1,health;retail\nr2,healtcare;retail;health\n")
    match = '[[rules]]\ntype = "Match"\ncustomer_col = "industry"\nrep_col = "skills"\n'
    files["config"].write_text(match + OBJECTIVE + "[solve]\ntime_limit = 2\nworkers = 1\n")
    argv = [a for a in args(files) if a != "--quiet"]
    done = _run_cli(argv)
    assert done.returncode == EXIT_OK, done.stderr
    warning_lines = [line for line in done.stderr.splitlines() if "warning" in line.lower()]
    assert warning_lines, done.stderr
    assert all(line.startswith("alloc: warning: ") for line in warning_lines), warning_lines
    assert "healtcare" in done.stderr
    assert "DataWarning" not in done.stderr and "warnings.warn" not in done.stderr
    files["out"].unlink()
    quiet = _run_cli(args(files))
    assert quiet.returncode == EXIT_OK
    assert quiet.stderr == ""


def test_warnings_during_solving_go_through_the_cli_and_quiet_silences_them(
    files: Files, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_solve = alloc.cli.solve

    def solve_with_warning(*a: Any, **k: Any) -> Any:
        warnings.warn("scaling lost precision", alloc.PrecisionWarning, stacklevel=2)
        return real_solve(*a, **k)

    monkeypatch.setattr(alloc.cli, "solve", solve_with_warning)
    loud = [a for a in args(files) if a != "--quiet"]
    assert main(loud) == EXIT_OK
    err = capsys.readouterr().err
    assert "alloc: warning: scaling lost precision\n" in err
    assert "PrecisionWarning" not in err and "stacklevel" not in err
    assert main(args(files)) == EXIT_OK
    assert capsys.readouterr().err == ""


def test_a_config_without_objective_solves_with_a_warning(
    files: Files, capsys: pytest.CaptureFixture[str]
) -> None:
    files["config"].write_text('[[rules]]\ntype = "Capacity"\nmetric = "workload"\nlimit = 1e9\n')
    loud = [a for a in args(files) if a != "--quiet"]
    assert main([*loud, "--time-limit", "1"]) == EXIT_OK
    err = capsys.readouterr().err
    assert "alloc: warning: " in err and "no [[objective]]" in err
    assert files["out"].exists()


def test_an_unexpected_failure_is_one_line_and_debug_shows_the_traceback(
    files: Files, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*a: Any, **k: Any) -> Any:
        raise RuntimeError("solver exploded\nwith details")

    monkeypatch.setattr(alloc.cli, "solve", broken)
    assert main(args(files)) == EXIT_FAILURE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "RuntimeError: solver exploded with details" in err
    assert "--debug" in err and "Traceback" not in err
    with pytest.raises(RuntimeError, match="solver exploded"):
        main([*args(files), "--debug"])
    assert not files["out"].exists()


def test_debug_shows_the_traceback_of_a_bad_input_too(files: Files) -> None:
    with pytest.raises(alloc.InvalidProblemError, match="--config"):
        main([*args(files, config=None), "--debug"])


def test_an_interrupt_exits_130_without_traceback(
    files: Files, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*a: Any, **k: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(alloc.cli, "solve", interrupted)
    assert main(args(files)) == EXIT_INTERRUPTED
    assert capsys.readouterr().err == "alloc: error: interrupted\n"
    assert not files["out"].exists()


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", "--help"]) == EXIT_OK
    text = capsys.readouterr().out
    assert "--config" in text and "--sep" in text and "--debug" in text


def test_sep_reads_semicolon_and_tab_separated_tables(
    files: Files,
    sample_tables: tuple[pd.DataFrame, pd.DataFrame],
    capsys: pytest.CaptureFixture[str],
) -> None:
    customers, reps = sample_tables
    for sep, name in ((";", ";"), ("\t", "tab"), ("\t", "\\t")):
        customers.to_csv(files["customers"], index=False, sep=sep)
        reps.to_csv(files["reps"], index=False, sep=sep)
        assert main([*args(files), "--sep", name]) == EXIT_OK, capsys.readouterr().err
        files["out"].unlink()


def test_decimal_comma_reads_numbers_as_a_german_spreadsheet_saves_them(
    files: Files,
    sample_tables: tuple[pd.DataFrame, pd.DataFrame],
    capsys: pytest.CaptureFixture[str],
) -> None:
    customers, reps = sample_tables
    write(files, "customers", german_csv(customers))
    write(files, "reps", german_csv(reps))
    assert "48.433,45" in files["customers"].read_text()
    argv = [*args(files), "--sep", ";", "--decimal", ","]
    assert main(argv) == EXIT_OK, capsys.readouterr().err
    assert len(pd.read_csv(files["out"])) == len(customers)
