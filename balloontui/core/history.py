"""Bounded per-VM history: balloon and guest-memory series over time, finer for recent data.

Each VM keeps three rings of fixed-width buckets (by default 1 s for 10 minutes, 15 s for 2 hours,
2 minutes for 24 hours); a sample lands in the current bucket of every ring and the last sample
in a bucket wins, which suits step-like balloon series. Values are stored as 4 KiB pages in
unsigned 32-bit arrays (up to 16 TiB), so a VM-day costs about 50 KB of series however often
it is sampled (plus its marks, at most a few hundred).
Marks (episodes, stalls, deaths, ...) are kept apart, the latest few hundred.
"""

from __future__ import annotations

from array import array
from collections import deque
from dataclasses import dataclass
from typing import Iterable, NamedTuple

from balloontui.core.sizes import PAGE_SIZE

SERIES = ("actual", "target", "available", "free", "caches")
_UNKNOWN = 0xFFFFFFFF  # a value we did not know at that time (array cell for None)
_MAX_PAGES = _UNKNOWN - 1


@dataclass(frozen=True)
class Tier:
    step: float
    """Seconds per bucket."""
    slots: int

    @property
    def span(self) -> float:
        return self.step * self.slots


DEFAULT_TIERS = (Tier(1, 600), Tier(15, 480), Tier(120, 720))


class Mark(NamedTuple):
    """Something that happened at a moment, drawn over the plot."""

    at: float
    kind: str
    label: str


class Points(NamedTuple):
    """A series ready to plot: times (seconds, the clock's scale) and values in bytes or None."""

    times: list[float]
    values: dict[str, list[int | None]]


class _Ring:
    """One resolution: bucket numbers and one value array per series, filled as a ring."""

    __slots__ = ("step", "capacity", "buckets", "columns", "head")

    def __init__(self, tier: Tier) -> None:
        self.step = tier.step
        self.capacity = tier.slots
        self.buckets = array("q")
        self.columns = [array("I") for _ in SERIES]
        self.head = -1

    def put(self, bucket: int, cells: list[int]) -> None:
        head = self.head
        if head >= 0 and self.buckets[head] == bucket:
            for column, cell in zip(self.columns, cells):
                column[head] = cell
            return
        if head >= 0 and bucket < self.buckets[head]:
            return  # the clock went back: never reorder the past
        if len(self.buckets) < self.capacity:
            self.buckets.append(bucket)
            for column, cell in zip(self.columns, cells):
                column.append(cell)
            self.head = len(self.buckets) - 1
            return
        head = (head + 1) % self.capacity
        self.buckets[head] = bucket
        for column, cell in zip(self.columns, cells):
            column[head] = cell
        self.head = head

    def order(self) -> Iterable[int]:
        """Slot indexes from oldest to newest."""
        count = len(self.buckets)
        if count < self.capacity:
            return range(count)
        start = self.head + 1
        return [*range(start, count), *range(0, start)]

    @property
    def wrapped(self) -> bool:
        return len(self.buckets) >= self.capacity

    def oldest_time(self) -> float | None:
        if self.head < 0:
            return None
        first = 0 if len(self.buckets) < self.capacity else (self.head + 1) % self.capacity
        return self.buckets[first] * self.step

    def nbytes(self) -> int:
        return sum(a.itemsize * a.buffer_info()[1] for a in (self.buckets, *self.columns))


class VMHistory:
    """The time series and marks of one VM, bounded in memory whatever its lifetime."""

    def __init__(self, tiers: tuple[Tier, ...] = DEFAULT_TIERS, max_marks: int = 200) -> None:
        self._rings = [_Ring(tier) for tier in tiers]
        self.marks: deque[Mark] = deque(maxlen=max_marks)
        self.first_time: float | None = None
        self.last_time: float | None = None

    def record(self, at: float, actual: int | None, target: int | None,
               available: int | None, free: int | None, caches: int | None) -> None:
        """Add a sample taken at ``at`` (seconds); ``None`` for what is unknown."""
        cells = [_to_cell(actual), _to_cell(target), _to_cell(available), _to_cell(free),
                 _to_cell(caches)]
        for ring in self._rings:
            ring.put(int(at // ring.step), cells)
        if self.first_time is None:
            self.first_time = at
        self.last_time = at

    def mark(self, at: float, kind: str, label: str) -> None:
        self.marks.append(Mark(at, kind, label))

    def points(self, since: float, max_points: int) -> Points:
        """Samples since ``since``, at the finest resolution that covers it, at most
        ``max_points`` of them (thinned evenly, keeping the newest)."""
        ring = self._ring_for(since)
        if ring is None:
            return Points([], {name: [] for name in SERIES})
        first_bucket = since / ring.step
        chosen = [slot for slot in ring.order() if ring.buckets[slot] >= first_bucket]
        if max_points > 0 and len(chosen) > max_points:
            stride = len(chosen) / max_points
            last = len(chosen) - 1
            chosen = [chosen[last - round(i * stride)] for i in range(max_points - 1, -1, -1)]
        times = [ring.buckets[slot] * ring.step for slot in chosen]
        values = {name: [_from_cell(column[slot]) for slot in chosen]
                  for name, column in zip(SERIES, ring.columns)}
        return Points(times, values)

    def marks_since(self, since: float) -> list[Mark]:
        return [mark for mark in self.marks if mark.at >= since]

    def nbytes(self) -> int:
        """Bytes held by the series arrays (the bulk of a VM's history)."""
        return sum(ring.nbytes() for ring in self._rings)

    def _ring_for(self, since: float) -> _Ring | None:
        """The finest ring that still holds everything since ``since``, else the coarsest."""
        for ring in self._rings:
            if ring.head < 0:
                return None
            if not ring.wrapped or ring.oldest_time() <= since:  # type: ignore[operator]
                return ring
        return self._rings[-1]


def _to_cell(value: int | None) -> int:
    if value is None:
        return _UNKNOWN
    return min(max(value, 0) // PAGE_SIZE, _MAX_PAGES)


def _from_cell(cell: int) -> int | None:
    return None if cell == _UNKNOWN else cell * PAGE_SIZE
