"""Overhead ratio: balloontui's CPU against a bare qemu.qmp loop doing the same queries.

Each client watches its own fresh simulator (same seed, so the same VMs with the same
workloads), with guest stats at 1 s on every VM. After the client is ready (connected; for the
TUI, its first full frame) and a warm-up, we read the client's CPU (/proc/PID/stat utime +
stime, all its threads, not the simulator) over windows of the same length; the clients take
turns, in two rounds (the second in reverse order), and their windows are added up. Clients:

- ``bare``: :mod:`balloontui.bench.bare_loop` (query-balloon + qom-get guest-stats per VM per
  second, events drained) with plain ``qemu.qmp`` — the yardstick;
- ``bare-lean``: the same without qemu.qmp's debug rendering of every message (informative);
- ``core``: :mod:`balloontui.bench.core_process`, a ``Monitor`` alone;
- ``tui``: ``python -m balloontui SOCKET...`` in a 160×48 pseudo-terminal.
"""

from __future__ import annotations

import json
import signal
import time
from dataclasses import dataclass, field
from typing import Any

from balloontui.bench.child import BenchError, measure_window, python_child
from balloontui.bench.sim_process import simulated_host
from balloontui.bench.tui_session import running_tui

CLIENTS = ("bare", "bare-lean", "core", "tui")


@dataclass
class ClientCPU:
    client: str
    cpu_seconds: float
    seconds: float
    sim_cpu_seconds: float
    counts: dict[str, Any] = field(default_factory=dict)

    @property
    def cores(self) -> float:
        return self.cpu_seconds / self.seconds


def _module_client(module: str, args: list[str], sim, seconds: float,  # type: ignore[no-untyped-def]
                   warmup: float) -> tuple[float, float, float, dict[str, Any]]:
    with python_child(module, [*args, *sim.sockets]) as (process, reader):
        time.sleep(warmup)
        client, simulator = measure_window(seconds, process.pid, sim.process.pid)
        process.send_signal(signal.SIGTERM)
        try:
            counts = json.loads(reader.readline(15))
        except (BenchError, ValueError):
            counts = {}
    return client.cpu, client.seconds, simulator.cpu, counts


def measure_client(client: str, *, vms: int, seconds: float, warmup: float,
                   seed: int) -> ClientCPU:
    with simulated_host(vms, seed=seed, stats_interval=1) as sim:
        if client == "tui":
            with running_tui(sim.sockets, columns=160, rows=48) as tui:
                tui.terminal.stop_emulating()  # our emulator must not take the TUI's CPU
                time.sleep(warmup)
                used, simulator = measure_window(seconds, tui.terminal.pid, sim.process.pid)
                return ClientCPU(client, used.cpu, used.seconds, simulator.cpu,
                                 {"startup_seconds": round(tui.startup_seconds, 3)})
        if client in ("bare", "bare-lean"):
            args = ["--lean"] if client == "bare-lean" else []
            cpu, wall, sim_cpu, counts = _module_client("balloontui.bench.bare_loop", args,
                                                        sim, seconds, warmup)
        elif client == "core":
            cpu, wall, sim_cpu, counts = _module_client("balloontui.bench.core_process", [],
                                                        sim, seconds, warmup)
        else:
            raise ValueError(client)
        return ClientCPU(client, cpu, wall, sim_cpu, counts)


def measure_overhead(*, vms: int = 100, seconds: float = 20.0, warmup: float = 3.0,
                     seed: int = 1, clients: tuple[str, ...] = CLIENTS,
                     rounds: int = 2) -> dict[str, Any]:
    """CPU of each client over windows of the same length, and the ratios to the bare loop.

    The clients take turns, in ``rounds`` rounds of ``seconds / rounds`` each (the order
    reversed every other round), so a change in the machine's load falls on all of them."""
    window = seconds / rounds
    runs: dict[str, ClientCPU] = {}
    per_round: list[dict[str, float]] = []
    for index in range(rounds):
        order = clients if index % 2 == 0 else tuple(reversed(clients))
        this_round = {}
        for name in order:
            run = measure_client(name, vms=vms, seconds=window, warmup=warmup, seed=seed)
            this_round[name] = run.cores
            total = runs.get(name)
            runs[name] = run if total is None else ClientCPU(
                name, total.cpu_seconds + run.cpu_seconds, total.seconds + run.seconds,
                total.sim_cpu_seconds + run.sim_cpu_seconds, {**total.counts, **run.counts})
        per_round.append(this_round)
    result: dict[str, Any] = {"vms": vms, "seconds": seconds, "rounds": rounds, "clients": {
        name: {"cpu_seconds": round(run.cpu_seconds, 3), "cores": round(run.cores, 4),
               "simulator_cpu_seconds": round(run.sim_cpu_seconds, 3), **run.counts}
        for name, run in runs.items()}}
    if "bare" in clients and "core" in clients:
        result["core_ratio_by_round"] = [round(r["core"] / r["bare"], 3) for r in per_round
                                         if r.get("bare")]
    bare = runs.get("bare")
    if bare is not None and bare.cpu_seconds > 0:
        for name, run in runs.items():
            if name != "bare":
                result[f"{name}_ratio"] = round(run.cores / bare.cores, 3)
    lean = runs.get("bare-lean")
    if lean is not None and lean.cpu_seconds > 0 and "core" in runs:
        result["core_to_lean_ratio"] = round(runs["core"].cores / lean.cores, 3)
    return result
