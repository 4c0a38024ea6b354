"""A clock that moves only when a test says so."""

from balloontui.core.clock import Clock


class ManualClock(Clock):
    def __init__(self, start: float = 1000.0, wall_start: float = 1_796_064_658.0) -> None:
        super().__init__()
        self.t = start
        self._wall_delta = wall_start - start

    def now(self) -> float:
        return self.t

    def wall(self) -> float:
        return self.t + self._wall_delta

    def advance(self, seconds: float) -> None:
        self.t += seconds
