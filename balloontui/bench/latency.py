"""Latency: from a BALLOON_CHANGE sent by QEMU, or from a keypress, to the screen.

Event → screen: the simulator's control command ``actual NAME SIZE`` makes a VM report a new
``actual`` and writes the BALLOON_CHANGE to balloontui's socket at once, answering with the
``time.monotonic()`` just after the write. The VM is the first pane (top left, always drawn),
one whose guest leaves its balloon alone, and each value differs from the one on screen. The
sample ends at the arrival, on our side of the pseudo-terminal, of the output after which the
emulated screen shows the new value in that pane's ``actual`` field. Same host, same
CLOCK_MONOTONIC. Samples are spaced by random gaps (seeded) so they fall at every phase of the
UI's refresh.

Keypress → screen: ``u`` (units bytes ↔ pages) is written to the terminal; the sample ends when
the first pane's ``mem`` field has switched (``2G`` ↔ ``524288p``).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

from balloontui.bench.screen import pane_named, shows_actual, shows_pages
from balloontui.bench.sim_process import SimProcess, SimulatedVMInfo, simulated_host
from balloontui.bench.terminal import TerminalProcess
from balloontui.bench.tui_session import running_tui
from balloontui.core.sizes import MiB, format_size


@dataclass
class Samples:
    seconds: list[float] = field(default_factory=list)
    missed: int = 0
    at: list[float] = field(default_factory=list)
    """When each sample was taken (monotonic), for trends."""

    def summary(self) -> dict[str, Any]:
        return {"samples": len(self.seconds), "missed": self.missed,
                **{f"p{q}_ms": _ms(percentile(self.seconds, q)) for q in (50, 90, 99)},
                "max_ms": _ms(max(self.seconds, default=None))}


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank percentile (no interpolation: a value that was measured)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil
    return ordered[int(rank) - 1]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def probe_values(vm: SimulatedVMInfo) -> list[int]:
    """Sizes to report for ``vm``, each shown differently from the previous one."""
    step = 64 * MiB if vm.memory >= 2048 * MiB else 16 * MiB
    values = [vm.memory - k * step for k in range(1, 13)]
    return [v for v in values if v > 0]


class EventProbe:
    """Sends distinctive BALLOON_CHANGEs to one VM and times them to the screen."""

    def __init__(self, sim: SimProcess, terminal: TerminalProcess, vm: SimulatedVMInfo,
                 rng: random.Random) -> None:
        self.sim, self.terminal, self.vm, self.rng = sim, terminal, vm, rng
        self.values = probe_values(vm)
        self.index = 0
        self.samples = Samples()

    def once(self, timeout: float = 3.0) -> float | None:
        shown_now = pane_named(self.terminal.lines(), self.vm.name)
        figures = shown_now.figures() if shown_now else None
        while True:
            value = self.values[self.index % len(self.values)]
            self.index += 1
            text = format_size(value, compact=True)
            if figures is None or figures["actual"] != text:
                break
        watch = self.terminal.watch(shows_actual(self.vm.name, text))
        reply = self.sim.control(f"actual {self.vm.name} {value}")
        sent = float(reply[0].split()[1])
        shown = self.terminal.wait(watch, timeout)
        if shown is None:
            self.samples.missed += 1
            return None
        self.samples.seconds.append(shown - sent)
        self.samples.at.append(sent)
        return shown - sent

    def run(self, count: int, gap: tuple[float, float] = (0.05, 0.25)) -> Samples:
        for _ in range(count):
            self.once()
            time.sleep(self.rng.uniform(*gap))
        return self.samples


def keypress_latency(terminal: TerminalProcess, vm_name: str, presses: int,
                     rng: random.Random, timeout: float = 10.0, budget: float = 90.0) -> Samples:
    """Press ``u`` ``presses`` times (or as many as fit in ``budget`` seconds); each time, until
    the pane of ``vm_name`` changed units (a press not shown within ``timeout`` is missed)."""
    samples = Samples()
    deadline = time.monotonic() + budget
    pane = pane_named(terminal.lines(), vm_name)
    figures = pane.figures() if pane else None
    pages = bool(figures and figures["mem"].endswith("p"))
    for _ in range(presses):
        if time.monotonic() > deadline:
            break
        pages = not pages
        watch = terminal.watch(shows_pages(vm_name, pages))
        pressed = terminal.send(b"u")
        shown = terminal.wait(watch, timeout)
        if shown is None:
            samples.missed += 1
            # Let the late press land before the next one, so we know which units to expect.
            if terminal.wait_for(shows_pages(vm_name, pages), 3 * timeout) is None:
                break
        else:
            samples.seconds.append(shown - pressed)
            samples.at.append(pressed)
        time.sleep(rng.uniform(0.2, 0.5))
    return samples


def first_quiet(sim: SimProcess) -> tuple[SimulatedVMInfo, list[str]]:
    """The VM to probe, and the sockets in an order that puts it in the first pane."""
    vm = sim.quiet_vm()
    return vm, [vm.socket, *(s for s in sim.sockets if s != vm.socket)]


def measure_event_latency(*, vms: int = 100, samples: int = 200, seed: int = 1,
                          columns: int = 160, rows: int = 48,
                          settle: float = 3.0) -> dict[str, Any]:
    rng = random.Random(seed)
    with simulated_host(vms, seed=seed, stats_interval=1) as sim:
        vm, sockets = first_quiet(sim)
        with running_tui(sockets, columns=columns, rows=rows) as tui:
            time.sleep(settle)
            probe = EventProbe(sim, tui.terminal, vm, rng)
            result = probe.run(samples).summary()
    return {"vms": vms, "vm": vm.name, **result}
