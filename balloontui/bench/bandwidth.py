"""Terminal bandwidth: the bytes balloontui writes to its terminal per second, steady state.

8 simulated VMs with guest stats at 1 s, the TUI in a 120×40 pseudo-terminal (TERM
xterm-256color, no COLORTERM: what an SSH session usually passes). After the first full frame
and a settling time (start-up drawing excluded), we count every byte read from the terminal over
a window; then ``p`` freezes the plots and a second window shows how much of that the plots
are (informative). For scale, ``htop`` (if installed) at the same size with a 1 s refresh (``-d 10``) is
counted the same way.
"""

from __future__ import annotations

import shutil
import time
from typing import Any

from balloontui.bench.sim_process import simulated_host
from balloontui.bench.terminal import TerminalProcess
from balloontui.bench.tui_session import running_tui


def _count(terminal: TerminalProcess, seconds: float) -> tuple[int, float]:
    start = time.monotonic()
    time.sleep(seconds)
    end = time.monotonic()
    return terminal.bytes_between(start, end), end - start


def measure_bandwidth(*, vms: int = 8, seconds: float = 20.0, settle: float = 5.0,
                      seed: int = 1, columns: int = 120, rows: int = 40,
                      htop: bool = True, freeze: bool = True) -> dict[str, Any]:
    result: dict[str, Any] = {"vms": vms, "terminal": f"{columns}x{rows}"}
    with simulated_host(vms, seed=seed, stats_interval=1) as sim:
        with running_tui(sim.sockets, columns=columns, rows=rows) as tui:
            tui.terminal.stop_emulating()
            time.sleep(settle)
            count, elapsed = _count(tui.terminal, seconds)
            result.update(seconds=round(elapsed, 1), bytes=count,
                          bytes_per_second=round(count / elapsed))
            if freeze:
                tui.terminal.send(b"p")  # plots frozen: what the numbers alone cost
                time.sleep(settle)  # the 'plots frozen' toast comes and goes
                count, elapsed = _count(tui.terminal, seconds)
                result["plots_frozen_bytes_per_second"] = round(count / elapsed)
    program = shutil.which("htop")
    if htop and program:
        with TerminalProcess([program, "-d", "10"], columns=columns, rows=rows,
                             emulate=False) as top:
            time.sleep(settle)
            count, elapsed = _count(top, seconds)
            result["htop_bytes_per_second"] = round(count / elapsed)
    elif htop:
        result["htop_bytes_per_second"] = None  # not installed (apt-get install htop)
    return result
