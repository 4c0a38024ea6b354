"""Start-up: from starting ``python -m balloontui SOCKET...`` to its first full frame.

100 simulated VMs (stats at 1 s), a 160×48 pseudo-terminal. The clock starts just before the
process is created (Python's own start and imports included) and stops at the arrival of the
output after which the emulated screen first shows a *full frame*: the footer is drawn, and
every pane whose two lines of numbers are on screen shows its VM's memory, its balloon's actual
size and the guest's stats (or says it has no balloon device). The plots are drawn later, on the
UI's one-second tick: the time until every such pane has drawn its plot is reported beside it.
Repeated a few times against the same simulator (each start a new process); the median counts.
"""

from __future__ import annotations

import statistics
from typing import Any

from balloontui.bench.screen import all_plotted
from balloontui.bench.sim_process import simulated_host
from balloontui.bench.tui_session import running_tui


def measure_startup(*, vms: int = 100, runs: int = 3, seed: int = 1, columns: int = 160,
                    rows: int = 48) -> dict[str, Any]:
    frames: list[float] = []
    plots: list[float] = []
    with simulated_host(vms, seed=seed, stats_interval=1) as sim:
        for _ in range(runs):
            with running_tui(sim.sockets, columns=columns, rows=rows) as tui:
                frames.append(tui.startup_seconds)
                plotted = tui.terminal.wait_for(all_plotted, 15)
                if plotted is not None:
                    plots.append(plotted - tui.started_at)
    return {"vms": vms, "runs": runs, "terminal": f"{columns}x{rows}",
            "first_full_frame_seconds": round(statistics.median(frames), 3),
            "first_full_frame_all": [round(f, 3) for f in frames],
            "plots_drawn_seconds": round(statistics.median(plots), 3) if plots else None}
