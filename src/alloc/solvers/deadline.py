"""One time budget per public call: a `Deadline` made once and passed down.

Phases take a *share* of what is left rather than re-deriving seconds from the caller's
``time_limit``; only the solver wrappers (CP-SAT, HiGHS) turn a deadline into seconds.
A share is never later than the deadline it came from, so no phase can run past the
caller's budget by construction.

A deadline may also end early when an event is set (`Deadline.or_when`): local search
stops when the LP relaxation beside it finishes, to restart from its rounded plan. Only
code that polls ``remaining()`` sees the event; the solver wrappers take the seconds
left when they start.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

__all__ = ["Deadline"]


@dataclass(frozen=True)
class Deadline:
    """A point in time (``time.perf_counter()`` seconds) by which work must end.

    >>> d = Deadline.after(10.0)
    >>> 9.0 < d.remaining() <= 10.0
    True
    >>> half = d.share(0.5)
    >>> half.at <= d.at and half.remaining() <= 5.0
    True
    >>> Deadline.after(0.0).expired()
    True
    """

    at: float
    stop: threading.Event | None = field(default=None, compare=False, repr=False)

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        """The deadline ``seconds`` from now (never in the past)."""
        return cls(time.perf_counter() + max(0.0, float(seconds)))

    @classmethod
    def never(cls) -> Deadline:
        """A deadline that does not expire (for callers without a time limit)."""
        return cls(math.inf)

    def remaining(self) -> float:
        """Seconds left, 0 once expired (or once the ``stop`` event is set)."""
        if self.stop is not None and self.stop.is_set():
            return 0.0
        return max(0.0, self.at - time.perf_counter())

    def or_when(self, event: threading.Event) -> Deadline:
        """This deadline, ending early once ``event`` is set.

        >>> import threading
        >>> done = threading.Event()
        >>> d = Deadline.after(10.0).or_when(done)
        >>> d.expired(), (done.set(), d.expired())[1], d.share(0.5).expired()
        (False, True, True)
        """
        return Deadline(self.at, event)

    def expired(self, margin: float = 0.0) -> bool:
        """True when fewer than ``margin`` seconds are left."""
        return self.remaining() <= margin

    def minus(self, seconds: float) -> Deadline:
        """An earlier deadline that leaves ``seconds`` in reserve for work after it."""
        return Deadline(self.at - max(0.0, seconds), self.stop)

    def share(self, fraction: float, *, reserve: float = 0.0, cap: float | None = None) -> Deadline:
        """A deadline ``fraction`` of the way through what is left after ``reserve``.

        ``cap`` limits the share to that many seconds. The result is never later than
        ``self``.
        """
        left = max(0.0, self.remaining() - max(0.0, reserve))
        seconds = left * min(max(fraction, 0.0), 1.0)
        if cap is not None:
            seconds = min(seconds, max(0.0, cap))
        return Deadline(min(self.at, time.perf_counter() + seconds), self.stop)

    def earliest(self, other: Deadline) -> Deadline:
        """The earlier of the two deadlines (with that one's ``stop`` event)."""
        return self if self.at <= other.at else other

    def seconds(self) -> float:
        """Seconds left, for a solver wrapper to set its solver's own limit.

        Only the wrappers (CP-SAT, HiGHS) convert a deadline to seconds; a wrapper given
        an expired deadline does not start its solver.
        """
        return self.remaining()
