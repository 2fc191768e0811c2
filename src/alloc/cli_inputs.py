"""The command line's files, checked before any solving: the CSV tables it reads and the
paths it will write.

Each check raises :class:`~alloc.InvalidProblemError` with one line that names the option,
the file and the fix: a missing, empty or header-only table, a file that is not CSV (JSON,
a spreadsheet, binary), a wrong separator, an output path that is a directory, lies under
a file or in a missing directory, or would overwrite an input.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from alloc.errors import InvalidProblemError

__all__ = [
    "COMMA_POINT",
    "SEPARATORS",
    "CsvFormat",
    "check_output_dir",
    "check_output_file",
    "parse_decimal",
    "parse_sep",
    "read_table",
]

#: Names accepted by ``--sep`` besides a single character (a tab is awkward in a shell).
SEPARATORS: dict[str, str] = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|", r"\t": "\t"}

_SHOWN = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}

#: File signatures of formats users export by mistake, and what to do instead.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "an Excel workbook (or another zip file)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) workbook"),
    (b"PAR1", "a Parquet file"),
    (b"\x89PNG", "a PNG image"),
    (b"%PDF", "a PDF document"),
)

_HEAD_BYTES = 65536


def parse_sep(text: str) -> str:
    """The separator ``--sep`` names: one character or comma/semicolon/tab/pipe.

    Examples
    --------
    >>> parse_sep(";"), parse_sep("tab")
    (';', '\\t')
    """
    sep = SEPARATORS.get(text.lower(), text)
    if len(sep) != 1:
        raise InvalidProblemError(
            f"the separator must be one character (e.g. ';') or one of "
            f"{', '.join(list(SEPARATORS)[:4])}; got {text!r}."
        )
    return sep


@dataclass(frozen=True)
class CsvFormat:
    """How the CSV inputs are written: field separator and decimal mark."""

    sep: str = ","
    decimal: str = "."


#: Commas between fields, a point before decimals: the default.
COMMA_POINT = CsvFormat()


def parse_decimal(text: str) -> str:
    """The decimal mark ``--decimal`` names: ``.`` (or point, dot) or ``,`` (or comma).

    Examples
    --------
    >>> parse_decimal(","), parse_decimal("point")
    (',', '.')
    """
    mark = {"comma": ",", "point": ".", "dot": "."}.get(text.lower(), text)
    if mark not in (".", ","):
        raise InvalidProblemError(f"the decimal mark must be '.' or ','; got {text!r}.")
    return mark


def _input_file(path: str, option: str) -> Path:
    file = Path(path)
    if not file.exists():
        raise InvalidProblemError(f"{option} {path!r}: no such file; check the path.")
    if file.is_dir():
        raise InvalidProblemError(f"{option} {path!r} is a directory; name the CSV file in it.")
    return file


def _head(file: Path, option: str) -> bytes:
    try:
        with file.open("rb") as handle:
            return handle.read(_HEAD_BYTES)
    except OSError as exc:
        raise InvalidProblemError(
            f"{option} {str(file)!r} cannot be read: {exc.strerror}."
        ) from exc


def _check_format(head: bytes, path: str, option: str) -> None:
    """Refuse files that are empty or plainly not CSV text, before pandas parses them."""
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not text:
        size = "0 bytes" if not head else "only blank space"
        raise InvalidProblemError(
            f"{option} {path!r} is empty ({size}); it needs a header line and one row per record."
        )
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            raise InvalidProblemError(
                f"{option} {path!r} is {kind}, not CSV; save or export it as CSV (UTF-8)."
            )
    if text[:1] in (b"{", b"["):
        raise InvalidProblemError(
            f"{option} {path!r} looks like JSON, not CSV; export it as CSV with a header "
            f"line (e.g. pandas.read_json(...).to_csv(..., index=False))."
        )
    if b"\x00" in head:
        raise InvalidProblemError(
            f"{option} {path!r} is a binary file (or UTF-16 text), not CSV; save it as CSV (UTF-8)."
        )


def _check_separator(head: bytes, sep: str, path: str, option: str) -> None:
    """A header line without ``sep`` but with another separator: a hint, not a parse."""
    first = head.removeprefix(b"\xef\xbb\xbf").lstrip().split(b"\n", 1)[0]
    header = first.decode("utf-8", errors="replace").rstrip("\r")
    if sep in header:
        return
    for other in (";", "\t", ",", "|"):
        if other != sep and other in header:
            flag = "--sep tab" if other == "\t" else f"--sep '{other}'"
            shown = header if len(header) <= 40 else f"{header[:37]}..."
            raise InvalidProblemError(
                f"{option} {path!r} has one column {shown!r}: its header is separated "
                f"by {_SHOWN[other]}, not {_SHOWN.get(sep, repr(sep))}; pass {flag} or "
                f"re-save the file with commas."
            )


def read_table(path: str, option: str, sep: str = ",", decimal: str = ".") -> pd.DataFrame:
    """Read the CSV file given to ``option`` (e.g. ``--customers``), or raise one line.

    Parameters
    ----------
    path : str
        The file.
    option : str
        The command-line option naming it, used in messages.
    sep : str
        The field separator (``--sep``).
    decimal : str
        The decimal mark (``--decimal``); with ``","`` a ``.`` separates thousands
        (``12.500,50``).

    Raises
    ------
    InvalidProblemError
        When the file is missing, a directory, unreadable, empty or header-only, not CSV
        (JSON, a spreadsheet, binary, not UTF-8), separated by another character than
        ``sep``, or malformed.
    """
    file = _input_file(path, option)
    head = _head(file, option)
    _check_format(head, path, option)
    _check_separator(head, sep, path, option)
    if decimal == sep:
        raise InvalidProblemError(
            f"--decimal {decimal!r} is also the field separator; pass --sep ';' (the usual "
            "separator of files with a decimal comma)."
        )
    numbers = {"decimal": ",", "thousands": "."} if decimal == "," else {}
    try:
        frame = pd.read_csv(file, sep=sep, **numbers)  # type: ignore[call-overload]
    except UnicodeDecodeError as exc:
        raise InvalidProblemError(
            f"{option} {path!r} is not UTF-8 text (byte {exc.start}); re-save it as 'CSV UTF-8'."
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise InvalidProblemError(f"{option} {path!r} has no header line; add one.") from exc
    except pd.errors.ParserError as exc:
        detail = " ".join(str(exc).split())
        raise InvalidProblemError(
            f"{option} {path!r} is not valid CSV: {detail}; every line needs as many fields "
            f"as the header (quote values that contain {_SHOWN.get(sep, repr(sep))})."
        ) from exc
    except OSError as exc:
        raise InvalidProblemError(f"{option} {path!r} cannot be read: {exc.strerror}.") from exc
    if frame.empty:
        raise InvalidProblemError(
            f"{option} {path!r} has a header but no rows; add one row per record."
        )
    return frame


def _first_existing(path: Path) -> Path:
    """The nearest ancestor of ``path`` (or itself) that exists."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(".")


def _check_parent(target: Path, option: str, path: str, create: bool) -> None:
    parent = target.parent
    existing = _first_existing(parent)
    if not existing.is_dir():
        raise InvalidProblemError(
            f"{option} {path!r} lies under {str(existing)!r}, which is a file, not a "
            f"directory; choose another path."
        )
    if existing != parent and not create:
        raise InvalidProblemError(
            f"{option} {path!r}: the directory {str(parent)!r} does not exist; create it "
            f"(mkdir -p {parent}) or choose another path."
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InvalidProblemError(
            f"{option} {path!r}: cannot write in the directory {str(existing)!r} (permission "
            f"denied); choose another path."
        )


def check_output_file(
    path: str, option: str = "-o", inputs: Mapping[str, str | None] | None = None
) -> Path:
    """Check that ``path`` can receive a new file, before any work is done.

    It must not be a directory, lie under a file or in a missing directory, or be one
    of ``inputs`` (option -> path of the files read).

    Raises
    ------
    InvalidProblemError
        Naming the option, the path and the fix.
    """
    target = Path(path)
    if path.endswith(("/", os.sep)) or target.is_dir():
        raise InvalidProblemError(
            f"{option} {path!r} names a directory; name the file to write, e.g. "
            f"{option} {str(target / 'plan.csv')!r}."
        )
    _check_parent(target, option, path, create=False)
    if target.exists():
        if not target.is_file():
            raise InvalidProblemError(f"{option} {path!r} exists and is not a regular file.")
        for input_option, input_path in (inputs or {}).items():
            if input_path and Path(input_path).exists() and target.samefile(input_path):
                raise InvalidProblemError(
                    f"{option} {path!r} is the file given to {input_option}; writing the "
                    f"plan there would overwrite it: choose another path."
                )
    return target


def check_output_dir(path: str, option: str = "--output-dir") -> Path:
    """Check that ``path`` is, or can be created as, a writable directory.

    Raises
    ------
    InvalidProblemError
        When it is a file, lies under a file, or its nearest existing directory is not
        writable.
    """
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise InvalidProblemError(
            f"{option} {path!r} is a file, not a directory; choose a directory."
        )
    if target.is_dir():
        if not os.access(target, os.W_OK | os.X_OK):
            raise InvalidProblemError(f"{option} {path!r}: cannot write in it (permission denied).")
        return target
    _check_parent(target, option, path, create=True)
    return target
