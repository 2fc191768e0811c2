"""Exceptions and warnings raised by alloc.

Every error alloc raises subclasses [`AllocError`][alloc.errors.AllocError], so callers can catch
one type. Errors about bad input also subclass the built-ins users already catch
(``ValueError``, ``TypeError``).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "AllocError",
    "AllocWarning",
    "DataWarning",
    "InfeasibleError",
    "InvalidParameterError",
    "InvalidProblemError",
    "PrecisionWarning",
    "SolverError",
    "format_ids",
]


class AllocError(Exception):
    """Base class of every error raised by alloc."""


class InvalidProblemError(AllocError, ValueError):
    """The data given to build a problem is invalid (ids, columns, values).

    The message names the argument, the offending ids or columns, and how to fix it.
    """


class InvalidParameterError(AllocError, ValueError, TypeError):
    """A parameter of a function or class has a value or type it does not accept."""


class InfeasibleError(AllocError):
    """Raised by [`Result.raise_for_status`][alloc.Result.raise_for_status] without a plan."""


class SolverError(AllocError):
    """A solver failed in a way that is not a property of the problem."""


class AllocWarning(UserWarning):
    """Base class of warnings issued by alloc."""


class PrecisionWarning(AllocWarning):
    """Scaling float data to integers for an exact solver lost precision."""


class DataWarning(AllocWarning):
    """The data look like a mistake (a misspelt value, a rep no customer may go to).

    The problem is built as given; the warning names the ids and values to look at.
    """


def format_ids(ids: Iterable[object], limit: int = 5) -> str:
    """Format ids for an error message, truncated after ``limit`` with a count.

    >>> format_ids(["a", "b", "c"], limit=2)
    "'a', 'b' and 1 more"
    """
    items = list(ids)
    shown = ", ".join(repr(i.item() if hasattr(i, "item") else i) for i in items[:limit])
    rest = len(items) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown
