"""Memory: the RSS of a process holding 1000 VMs × a simulated day of history.

A child process (``python -m balloontui.bench.memory --child``, core only, no Textual) builds one
:class:`BalloonSession` per VM (not connected; identity, memory and a guest-stats report filled
in), then records each VM's history on a simulated clock — samples at 1 s resolution, realistic
values (a balloon that moves now and then, guest memory that drifts) and a mark every 2–8
minutes with a label as the core writes them (more than a real VM has, so that every VM reaches
the cap of its marks within the day) — and reads its own RSS (``VmRSS``, after a
``gc.collect()``) at the reading times: 24 and 30 simulated hours by default.

Recording 1000 × 130,000 seconds one by one would take the core's ``VMHistory.record`` (about
8 µs a call) three hours of CPU, so the fill records, of every second, only the samples the
history can still hold at the next reading: every second of its last 10 minutes, the last second
of each 15 s bucket of its last 2 hours, the last second of each 2 min bucket before that (the
history keeps the last sample of a bucket, in rings of 1 s × 600, 15 s × 480, 2 min × 720). So
at each reading every VM's history is exactly what recording every second would have made; the
child checks that on one VM against a full 1 s recording and says so (``same_as_every_second``).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

from balloontui.bench.child import BenchError
from balloontui.core.addresses import VMAddress
from balloontui.core.guest_stats import parse_guest_stats
from balloontui.core.history import DEFAULT_TIERS, VMHistory
from balloontui.core.session import BalloonSession
from balloontui.core.sizes import GiB, MiB, format_size
from balloontui.core.vm_state import BalloonFeatures, Link

HOUR = 3600
MARK_TEXTS = (
    ("deflate-on-oom", "the guest is taking memory back from the balloon (deflate-on-oom)"),
    ("deflate-on-oom over", "deflate-on-oom episode over: the guest took back {size}"),
    ("stall", "stalled: no progress towards {size} for 10 s"),
    ("changed elsewhere", "target changed by another client: now {size}"),
    ("state", "paused: the balloon waits until the VM runs again"),
    ("death", "QEMU's monitor closed without a shutdown (killed or crashed?)"),
)


class _Guest:
    """One VM's numbers as a pure, cheap function of the simulated second: a balloon moved now
    and then (ramping over half a minute), guest memory that drifts in a sawtooth."""

    __slots__ = ("memory", "move_every", "offset", "base", "swing", "period")

    def __init__(self, memory: int, rng: random.Random) -> None:
        self.memory = memory
        self.move_every = rng.randrange(600, 4 * HOUR)
        self.offset = rng.randrange(8)
        self.base = int(memory * rng.uniform(0.2, 0.5))
        self.swing = int(memory * rng.uniform(0.02, 0.1)) // 4096 + 1
        self.period = rng.randrange(300, 1800)

    def _target(self, epoch: int) -> int:
        return self.memory - (epoch * 5 + self.offset) % 8 * self.memory // 16

    def sample(self, t: int) -> tuple[int, int, int, int, int]:
        epoch, into = divmod(t, self.move_every)
        target = self._target(epoch)
        actual = target
        if into < 30:
            before = self._target(epoch - 1)
            actual = before + (target - before) * into // 30
        wave = (t % self.period) * self.swing * 4096 // self.period
        available = min(actual, self.base + wave)
        return actual, target, available, available * 3 // 4, available // 4


def schedule(readings: list[int]) -> Iterator[int]:
    """The seconds to record so that each reading sees what 1 s samples would have left."""
    tiers = sorted(DEFAULT_TIERS, key=lambda tier: tier.step)
    coarse = int(tiers[-1].step)
    t = 0
    for reading in readings:
        while t < reading:
            keep = t == 0 or t % coarse == coarse - 1
            for tier in tiers[:-1]:
                step = int(tier.step)
                if reading - tier.span <= t and t % step == step - 1:
                    keep = True
            if keep:
                yield t
            t += 1


def _session(index: int, rng: random.Random) -> tuple[BalloonSession, _Guest]:
    session = BalloonSession(VMAddress(path=f"/run/vms/vm-{index:04d}.sock"))
    memory = rng.choice((1, 2, 4, 8, 16)) * GiB
    state = session.state
    state.name, state.memory, state.link = f"vm-{index:04d}", memory, Link.CONNECTED
    state.uuid, state.run_state, state.qemu_version = f"uuid-{index:032d}", "running", "7.2.22"
    state.features = BalloonFeatures(present=True, path="/machine/peripheral/balloon0",
                                     deflate_on_oom=True, negotiated=frozenset({"deflate-on-oom"}))
    state.stats_interval = 1
    state.stats = parse_guest_stats({"stats": {
        "stat-swap-in": 0, "stat-swap-out": 0, "stat-major-faults": 12,
        "stat-minor-faults": 1_000_000 + index, "stat-free-memory": memory // 3,
        "stat-total-memory": memory - 100 * MiB, "stat-available-memory": memory // 2,
        "stat-disk-caches": memory // 8, "stat-htlb-pgalloc": 0, "stat-htlb-pgfail": 0},
        "last-update": 1_700_000_000})
    return session, _Guest(memory, rng)


def _rss() -> int:
    gc.collect()
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _same_as_every_second(readings: list[int], seed: int) -> bool:
    """One VM recorded at every second against the sparse fill: what the UI can plot of it
    (each ring, through ``points``) must be the same at every reading."""
    full, sparse = VMHistory(), VMHistory()
    guest = _Guest(4 * GiB, random.Random(seed))
    wanted = iter(schedule(readings))
    next_sparse = next(wanted, None)
    t = 0
    for reading in readings:
        while t < reading:
            values = guest.sample(t)
            full.record(t, *values)
            if t == next_sparse:
                sparse.record(t, *values)
                next_sparse = next(wanted, None)
            t += 1
        for since in (reading - 599, reading - 7000, 0):
            if full.points(since, 0) != sparse.points(since, 0):
                return False
    return True


def child(vms: int, readings_hours: list[float], seed: int) -> None:
    readings = [int(h * HOUR) // 120 * 120 for h in readings_hours]
    rng = random.Random(seed)
    say = lambda **data: print(json.dumps(data), flush=True)  # noqa: E731
    say(stage="started", rss=_rss())
    pairs = [_session(i, rng) for i in range(vms)]
    say(stage="sessions", rss=_rss())
    next_mark = [rng.randrange(120, 480) for _ in pairs]
    started = time.process_time()
    reading_index = 0
    for t in schedule(readings):
        for index, (session, guest) in enumerate(pairs):
            values = guest.sample(t)
            session.history.record(t, *values)
            if t >= next_mark[index]:
                kind, text = MARK_TEXTS[rng.randrange(len(MARK_TEXTS))]
                session.history.mark(t, kind, text.format(size=format_size(values[1])))
                next_mark[index] = t + rng.randrange(120, 480)
        if t == readings[reading_index] - 1:  # a reading: the last second before it is kept
            history_bytes = sum(s.history.nbytes() for s, _ in pairs)
            marks = sum(len(s.history.marks) for s, _ in pairs)
            say(stage="reading", hours=readings[reading_index] / HOUR, rss=_rss(),
                history_bytes=history_bytes, marks=marks,
                fill_cpu_seconds=round(time.process_time() - started, 1))
            reading_index += 1
    say(stage="checked", same_as_every_second=_same_as_every_second(readings, seed))


def measure_memory(*, vms: int = 1000, hours: tuple[float, ...] = (24, 30),
                   seed: int = 1, timeout: float = 900) -> dict[str, Any]:
    """Run the child; its readings, and whether RSS stayed flat after the day was full."""
    argv = [sys.executable, "-m", "balloontui.bench.memory", "--child", "--vms", str(vms),
            "--hours", ",".join(f"{h:g}" for h in hours), "--seed", str(seed)]
    started = time.monotonic()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError(f"the memory child took more than {timeout:g} s") from None
    if done.returncode != 0:
        raise BenchError(f"the memory child failed: {done.stderr[-800:]}")
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    readings = [line for line in lines if line["stage"] == "reading"]
    checked = next((line for line in lines if line["stage"] == "checked"), {})
    day = [r for r in readings if r["hours"] >= 24] or readings[-1:]
    return {
        "vms": vms,
        "rss_start_bytes": lines[0]["rss"],
        "rss_sessions_bytes": lines[1]["rss"],
        "readings": readings,
        "rss_day_bytes": max(r["rss"] for r in day),
        "growth_after_day_bytes": day[-1]["rss"] - day[0]["rss"],
        "same_as_every_second": checked.get("same_as_every_second"),
        "wall_seconds": round(time.monotonic() - started, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m balloontui.bench.memory")
    parser.add_argument("--child", action="store_true", required=True)
    parser.add_argument("--vms", type=int, default=1000)
    parser.add_argument("--hours", default="24,30")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    child(args.vms, [float(h) for h in args.hours.split(",")], args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
