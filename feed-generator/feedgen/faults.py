"""Faults on demand: what to break, how often or when, parsed from ``--faults``.

Grammar: a comma-separated list of ``name[=value][@window]``. ``window`` is
``start-end`` or ``start+length`` in seconds after the run's start (``s`` suffix
allowed); without a window a fault applies to the whole run.

=============  ==========================================================================
``dup=P``      re-send a message already sent (same message id), share ``P`` of messages
``reorder=P``  hold a live/odds message back and send it after the event's next one
``malformed=P`` add a broken message (bad JSON/XML, price out of range, a draw in a
               moneyline, a score that does not add up) after a share ``P`` of messages
``silence``    no ``alive`` heartbeats in the window (``silence@20-35``)
``burst=K``    rate x ``K`` in the window: the simulated clock runs ``K`` times faster
=============  ==========================================================================

Example: ``dup=0.01,reorder=0.01,malformed=0.005,silence@20+25,burst=3@40-50``.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["dup", "reorder", "malformed", "silence", "burst"]
SHARE_FAULTS = ("dup", "reorder", "malformed")
_ITEM = re.compile(
    r"^(?P<name>[a-z]+)(?:=(?P<value>[0-9.]+))?"
    r"(?:@(?P<start>[0-9.]+)s?(?P<op>[-+])(?P<end>[0-9.]+)s?)?$"
)


class FaultSpecError(ValueError):
    """A ``--faults`` specification that cannot be understood."""


@dataclass(frozen=True)
class Window:
    """Seconds after the run's start: ``start <= t < end``."""

    start: float
    end: float

    def __contains__(self, at: float) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True)
class FaultRule:
    """One fault: its kind, its share or factor, and when (None: always)."""

    kind: FaultKind
    value: float
    window: Window | None = None

    def active(self, at: float) -> bool:
        """Whether the rule applies at ``at`` seconds after the start."""
        return self.window is None or at in self.window


@dataclass(frozen=True)
class FaultPlan:
    """Every fault rule of a run."""

    rules: tuple[FaultRule, ...] = ()

    def share(self, kind: FaultKind, at: float) -> float:
        """Probability that a message due at ``at`` gets fault ``kind``."""
        return min(1.0, sum(r.value for r in self.rules if r.kind == kind and r.active(at)))

    def silent(self, at: float) -> bool:
        """Whether heartbeats are withheld at ``at``."""
        return any(r.kind == "silence" and r.active(at) for r in self.rules)

    def bursts(self) -> list[tuple[float, float, float]]:
        """Burst windows as ``(start, end, factor)``, in time order."""
        return sorted((r.window.start, r.window.end, r.value) for r in self.rules
                      if r.kind == "burst" and r.window is not None)

    def burst_factor(self, at: float) -> float:
        """The rate multiplier at ``at`` (1 outside bursts)."""
        for start, end, factor in self.bursts():
            if start <= at < end:
                return factor
        return 1.0

    def describe(self) -> str:
        """The plan in the ``--faults`` grammar."""
        parts = []
        for r in self.rules:
            text = r.kind if r.kind == "silence" else f"{r.kind}={r.value:g}"
            if r.window is not None:
                text += f"@{r.window.start:g}-{r.window.end:g}"
            parts.append(text)
        return ",".join(parts) or "none"


def parse_faults(text: str | None) -> FaultPlan:
    """Parse ``--faults``; raises :class:`FaultSpecError` with the offending item."""
    rules: list[FaultRule] = []
    for item in (p.strip() for p in (text or "").split(",")):
        if not item or item == "none":
            continue
        match = _ITEM.match(item)
        if match is None:
            raise FaultSpecError(f"fault {item!r}: expected name[=value][@start-end]")
        name, value = match["name"], match["value"]
        window = None
        if match["start"] is not None:
            start, end = float(match["start"]), float(match["end"])
            end = start + end if match["op"] == "+" else end
            if end <= start:
                raise FaultSpecError(f"fault {item!r}: the window ends before it starts")
            window = Window(start, end)
        if name in SHARE_FAULTS:
            if value is None or not 0 <= float(value) <= 1:
                raise FaultSpecError(f"fault {item!r}: {name} needs a share between 0 and 1")
            rules.append(FaultRule(name, float(value), window))  # type: ignore[arg-type]
        elif name == "silence":
            if window is None:
                raise FaultSpecError(f"fault {item!r}: silence needs a window (silence@20-35)")
            rules.append(FaultRule("silence", 1.0, window))
        elif name == "burst":
            if window is None or value is None or float(value) < 1:
                raise FaultSpecError(f"fault {item!r}: burst needs a factor >= 1 and a window "
                                     "(burst=3@10-20)")
            rules.append(FaultRule("burst", float(value), window))
        else:
            raise FaultSpecError(f"fault {item!r}: unknown fault {name!r} "
                                 "(dup, reorder, malformed, silence, burst)")
    plan = FaultPlan(tuple(rules))
    windows = plan.bursts()
    for (_, end, _), (start, _, _) in itertools.pairwise(windows):
        if start < end:
            raise FaultSpecError("burst windows overlap")
    return plan
