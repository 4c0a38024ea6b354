"""The real ``python -m balloontui SOCKET...`` in a pseudo-terminal, up to its first full frame."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from balloontui.bench.child import BenchError
from balloontui.bench.screen import full_frame
from balloontui.bench.terminal import TerminalProcess


@dataclass
class TUIRun:
    terminal: TerminalProcess
    started_at: float
    """Monotonic time just before the program was started."""
    first_frame_at: float
    """Arrival of the output that completed the first full frame (see ``screen.full_frame``)."""

    @property
    def startup_seconds(self) -> float:
        return self.first_frame_at - self.started_at


def tui_argv(sockets: Sequence[str], options: Sequence[str] = ()) -> list[str]:
    return [sys.executable, "-m", "balloontui", *options, *sockets]


@contextmanager
def running_tui(sockets: Sequence[str], *, columns: int, rows: int,
                ready_timeout: float = 60, options: Sequence[str] = ()) -> Iterator[TUIRun]:
    """The TUI watching ``sockets``, once its first full frame is on screen; stopped after."""
    started = time.monotonic()
    terminal = TerminalProcess(tui_argv(sockets, options), columns=columns, rows=rows)
    try:
        shown = terminal.wait_for(full_frame, ready_timeout)
        if shown is None:
            screen = "\n".join(terminal.lines())
            raise BenchError(f"balloontui showed no full frame in {ready_timeout:g} s "
                             f"(alive: {terminal.alive()}); the screen:\n{screen}")
        yield TUIRun(terminal, started, shown)
    finally:
        terminal.close()
