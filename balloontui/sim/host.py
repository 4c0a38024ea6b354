"""A host full of simulated QEMU VMs: explicit ones for tests, or a varied seeded fleet.

::

    async with SimulatedHost(tmp_path, [VMSpec("web-01", memory=2 * GiB)]) as host:
        vm = host.vm("web-01")          # its socket: vm.socket_path
        vm.guest.fill(300 * MiB)        # make memory pressure
        vm.inject("slow", 500)          # a fault
        vm.commands, vm.events          # what it received and sent

    host = SimulatedHost(directory, seed=7, count=50)   # the fleet of `balloontui sim`

One :class:`~balloontui.sim.ticker.Ticker` task advances every guest; everything else is timers
on the event loop, so a thousand VMs stay cheap. All time comes from the loop (through
:class:`~balloontui.core.clock.Clock`), so an accelerated loop speeds the whole host up.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from balloontui.core.clock import Clock
from balloontui.sim.fleet import plan_fleet
from balloontui.sim.ticker import FAST_PERIOD, SLOW_PERIOD, Ticker
from balloontui.sim.vm import HISTORY, SimulatedVM
from balloontui.sim.vm_spec import VMSpec


class SimulatedHost:
    """Many simulated VMs with their sockets in ``directory``.

    ``specs`` gives the VMs explicitly; without it, ``count`` varied VMs are planned from
    ``seed`` (same seed, same fleet).
    """

    def __init__(self, directory: str | os.PathLike[str],
                 specs: Iterable[VMSpec] | None = None, *, seed: int | None = None,
                 count: int = 8, clock: Clock | None = None, tick: float = FAST_PERIOD,
                 slow_tick: float = SLOW_PERIOD, history: int = HISTORY) -> None:
        self.directory = Path(directory)
        self.seed = seed
        self.clock = clock or Clock()
        self.specs = list(specs) if specs is not None else plan_fleet(count, seed or 0)
        names = [spec.name for spec in self.specs]
        if len(set(names)) != len(names):
            raise ValueError("two simulated VMs have the same name")
        self.ticker = Ticker(period=tick, slow_period=slow_tick)
        self.vms: dict[str, SimulatedVM] = {
            spec.name: SimulatedVM(spec, str(self.directory), ticker=self.ticker,
                                   clock=self.clock, history=history)
            for spec in self.specs
        }
        self._ticker_task: asyncio.Task[None] | None = None

    def vm(self, name: str) -> SimulatedVM:
        return self.vms[name]

    def __iter__(self) -> Iterator[SimulatedVM]:
        return iter(self.vms.values())

    def __len__(self) -> int:
        return len(self.vms)

    async def start(self) -> None:
        """Create the sockets (each VM already booted) and let time pass."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for vm in self.vms.values():
            vm.start(booted=True)
        self._ticker_task = asyncio.get_running_loop().create_task(
            self.ticker.run(), name="simulated host ticker"
        )

    async def stop(self) -> None:
        """Stop every VM (sockets removed) and the ticker."""
        task, self._ticker_task = self._ticker_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await asyncio.gather(*(vm.shutdown() for vm in self.vms.values()))

    async def __aenter__(self) -> SimulatedHost:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
