"""A long run on an accelerated clock: memory stays flat, history stays bounded.

100 simulated VMs, each sending a BALLOON_CHANGE every simulated second, watched through real
QMP sockets by one Monitor. Everything runs on an event loop whose clock goes ``SPEED`` times
faster than real time.

What CI can afford: the QMP stage covers ``QMP_SECONDS`` simulated seconds (180,000 events, each
parsed by qemu.qmp and handled by a session: far past warm-up, so a per-event leak — such as
qemu.qmp's default listener keeping every event — would show); then the same histories are fed
for the rest of a simulated day, every 15 s, so every ring of every history has wrapped. The
benchmark (`python -m balloontui.bench`) measures 1000 VMs over a day.
"""

from __future__ import annotations

import asyncio
import gc
import shutil
import tempfile

from balloontui.core.addresses import VMAddress
from balloontui.core.clock import new_accelerated_loop
from balloontui.core.history import DEFAULT_TIERS
from balloontui.core.monitor import Monitor
from balloontui.core.session import SessionSettings
from balloontui.core.sizes import MiB
from balloontui.sim.host import SimulatedHost
from balloontui.sim.vm import VMSpec

VMS = 100
SPEED = 40.0
QMP_SECONDS = 1200
DAY = 24 * 3600


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def scenario(directory: str) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    specs = [VMSpec(f"vm-{i:03d}", memory=1024 * MiB) for i in range(VMS)]
    readings: list[tuple[float, float]] = []
    # The simulator keeps only a short log per VM: what is measured is the monitor's memory.
    async with SimulatedHost(directory, specs, history=50) as host:
        # Events carry the changes; the backstop poll may be slow.
        monitor = Monitor([VMAddress(path=vm.socket_path) for vm in host],
                          settings=SessionSettings(poll_interval=30.0, call_timeout=60.0,
                                                   connect_timeout=60.0))
        events = 0

        def count(observation) -> None:
            nonlocal events
            events += observation.kind == "event"

        monitor.subscribe(on_observation=count)
        await monitor.start()
        await monitor.wait_connected(30)
        start = loop.time()
        second = 0
        while loop.time() - start < QMP_SECONDS:
            second += 1
            for vm in host:  # the guest's balloon moved by a page: QEMU says so
                vm.emit("BALLOON_CHANGE", {"actual": vm.spec.memory - (1 + second % 2) * 4096})
            await asyncio.sleep(max(0.0, start + second - loop.time()))
            if second % 300 == 0:
                gc.collect()
                readings.append((second, rss_mib()))
        sessions = list(monitor.sessions.values())
        await monitor.stop()
    # The rest of the day, straight into the same histories.
    for t in range(QMP_SECONDS, DAY, 15):
        if t % 600 == 0:
            for session in sessions:
                session.history.mark(start + t, "stall", "a long text " * 8)
        for session in sessions:
            session.history.record(start + t, 1000 * MiB, 999 * MiB, 400 * MiB, 300 * MiB,
                                   100 * MiB)
        if t % 21600 == 0:
            gc.collect()
            readings.append((t, rss_mib()))
    gc.collect()
    readings.append((DAY, rss_mib()))
    return {"readings": readings, "events": events, "sent": VMS * second,
            "history": [s.history.nbytes() for s in sessions],
            "marks": [len(s.history.marks) for s in sessions]}


def test_a_simulated_day_keeps_memory_flat_and_history_bounded(capsys):
    directory = tempfile.mkdtemp(prefix="bt-day-")
    loop = new_accelerated_loop(SPEED)
    try:
        result = loop.run_until_complete(scenario(directory))
    finally:
        loop.close()
        shutil.rmtree(directory, ignore_errors=True)
    readings = result["readings"]
    with capsys.disabled():
        print("\nsimulated-day RSS (MiB) at simulated seconds:",
              ", ".join(f"{t}s={rss:.1f}" for t, rss in readings),
              f"| events handled {result['events']} of {result['sent']}, "
              f"peak {max(r for _, r in readings):.1f}")
    # Every VM's balloon moved every simulated second, and the sessions saw it.
    assert result["events"] >= result["sent"] * 0.99
    # Flat after warm-up: from the first reading on, the process grows by a few MiB at most.
    after_warm_up = [rss for _, rss in readings]
    assert max(after_warm_up) - after_warm_up[0] < 12, readings
    slots = sum(tier.slots for tier in DEFAULT_TIERS)
    assert max(result["history"]) <= slots * 28
    assert max(result["marks"]) <= 200
