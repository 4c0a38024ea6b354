"""Scale: the full TUI watching 1000 simulated VMs (stats at 1 s) in a 160×48 terminal.

The simulator runs in its own process; its CPU is reported apart and not counted. Once the TUI
shows its first full frame and a settling time passed, we read the TUI's CPU (/proc/PID/stat)
over a window, in cores. Whether it keeps up: during the window, once a second, an event probe
(see :mod:`balloontui.bench.latency`) times a BALLOON_CHANGE to the screen, and we count the
bytes the TUI writes per second; a UI that falls behind shows latencies (or misses) growing from
the first third of the window to the last, or its output rate sagging. After the window, the
keypress latency at this scale (``u``) is measured in the same session, if asked.

Keeping up means: no probe lost, the median latency of the last third of the window at most
1.25 × that of the first third + 50 ms, and no probe a whole poll period (1 s) late.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

from balloontui.bench.child import measure_window
from balloontui.bench.latency import EventProbe, Samples, first_quiet, keypress_latency
from balloontui.bench.latency import percentile
from balloontui.bench.sim_process import process_rss_bytes, simulated_host
from balloontui.bench.tui_session import running_tui


def _thirds(samples: Samples, start: float, end: float) -> tuple[list[float], list[float]]:
    third = (end - start) / 3
    first = [s for s, at in zip(samples.seconds, samples.at) if at < start + third]
    last = [s for s, at in zip(samples.seconds, samples.at) if at >= end - third]
    return first, last


def _rate(terminal, start: float, end: float) -> float:  # type: ignore[no-untyped-def]
    return terminal.bytes_between(start, end) / (end - start)


def measure_scale(*, vms: int = 1000, seconds: float = 30.0, settle: float = 5.0,
                  seed: int = 1, columns: int = 160, rows: int = 48, keypresses: int = 30,
                  measure_cpu: bool = True) -> dict[str, Any]:
    rng = random.Random(seed)
    result: dict[str, Any] = {"vms": vms, "terminal": f"{columns}x{rows}"}
    with simulated_host(vms, seed=seed, stats_interval=1) as sim:
        vm, sockets = first_quiet(sim)
        with running_tui(sockets, columns=columns, rows=rows,
                         ready_timeout=60 + vms / 10) as tui:
            terminal = tui.terminal
            result["startup_seconds"] = round(tui.startup_seconds, 2)
            time.sleep(settle)
            if measure_cpu:
                probe = EventProbe(sim, terminal, vm, rng)
                stop = threading.Event()

                def probing() -> None:
                    while not stop.is_set():
                        began = time.monotonic()
                        probe.once(timeout=5.0)
                        stop.wait(max(0.0, 1.0 - (time.monotonic() - began)))

                prober = threading.Thread(target=probing, daemon=True)
                rss_before = terminal.rss_bytes()
                start = time.monotonic()
                prober.start()
                tui_cpu, sim_cpu = measure_window(seconds, terminal.pid, sim.process.pid)
                stop.set()
                prober.join(10)
                end = start + tui_cpu.seconds
                first, last = _thirds(probe.samples, start, end)
                third = (end - start) / 3
                rates = (_rate(terminal, start, start + third), _rate(terminal, end - third, end))
                p50_first, p50_last = percentile(first, 50), percentile(last, 50)
                # Keeping up: no probe lost, latency not growing over the window, and never a
                # whole poll period (1 s) behind.
                worst = max(probe.samples.seconds, default=None)
                keeps_up = (probe.samples.missed == 0 and p50_first is not None
                            and p50_last is not None and worst is not None and worst < 1.0
                            and p50_last <= 1.25 * p50_first + 0.05)
                result.update({
                    "seconds": round(tui_cpu.seconds, 1),
                    "tui_cores": round(tui_cpu.cores, 3),
                    "simulator_cores": round(sim_cpu.cores, 3),
                    "event_latency": probe.samples.summary(),
                    "latency_p50_first_third_ms": _ms(p50_first),
                    "latency_p50_last_third_ms": _ms(p50_last),
                    "bytes_per_second_first_third": round(rates[0]),
                    "bytes_per_second_last_third": round(rates[1]),
                    "keeps_up": keeps_up,
                    "tui_rss_bytes": terminal.rss_bytes(),
                    "tui_rss_growth_bytes": terminal.rss_bytes() - rss_before,
                    "simulator_rss_bytes": process_rss_bytes(sim.process.pid),
                })
            if keypresses:
                samples = keypress_latency(terminal, vm.name, keypresses, rng)
                result["keypress_latency"] = samples.summary()
    return result


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)
