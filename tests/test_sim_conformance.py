"""The simulated QEMU answers as the real one did: replay each recorded transcript against it.

The transcripts (``tests/sim/transcripts``, copies of the shared recordings) come from a real
QEMU 7.2.22 with a real Linux guest. Each is replayed against a simulated VM configured like the
recorded one (512 MiB, ``balloon0``, deflate-on-oom as recorded, or no balloon device): every
recorded ``send`` goes out at its recorded time (long idle gaps shortened), and what comes back
must match the recording: the greeting exactly; replies with the same keys (in the same order)
and JSON types everywhere, and the same values wherever they do not depend on the guest's
momentary state (only guest-stats numbers and timestamps may differ); events of the same names
in the same order with the same data, BALLOON_CHANGE within a tolerance of its recorded time;
end of stream where the recording has it. Where the recording shows the guest filling its
memory, the test makes the same pressure at the same moment.

The replay runs on an accelerated event loop (``SPEED`` times real time; the simulator reads
all its time from the loop), so it takes a few seconds.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from balloontui.core.clock import new_accelerated_loop
from balloontui.core.sizes import MiB
from balloontui.sim.guest_model import FILL_RATE
from balloontui.sim.host import SimulatedHost
from balloontui.sim.qemu72 import STATS_UNKNOWN
from balloontui.sim.vm_spec import VMSpec
from tests.sim.raw_client import EOF, RawQMP

TRANSCRIPTS = Path(__file__).parent / "sim" / "transcripts"
SPEED = float(os.environ.get("BALLOONTUI_CONFORMANCE_SPEED", "4"))
LONGEST_GAP = 1.5
"""Idle gaps longer than this (seconds) are shortened to SHORTENED_GAP: still more than QEMU's
one-second event period, so every throttle period of the recording has ended as it had."""
SHORTENED_GAP = 1.2
TIMING_TOLERANCE = 0.3
"""Seconds (simulated) an event may arrive away from its recorded time."""

CASES: dict[str, dict[str, Any]] = {
    "qemu-7.2-balloon.jsonl": {"deflate_on_oom": True},
    "qemu-7.2-deflate-on-oom.jsonl": {"deflate_on_oom": True, "pressure": "deflate"},
    "qemu-7.2-no-deflate-on-oom.jsonl": {"deflate_on_oom": False, "pressure": "die"},
    "qemu-7.2-no-balloon-device.jsonl": {"has_balloon": False},
    "qemu-7.2-quit.jsonl": {"deflate_on_oom": True},
}


def load(name: str) -> list[dict[str, Any]]:
    lines = (TRANSCRIPTS / name).read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def shortened(times: list[float]) -> list[float]:
    """The recorded times with every idle gap longer than LONGEST_GAP cut to SHORTENED_GAP."""
    out: list[float] = []
    shift = 0.0
    for index, t in enumerate(times):
        if index and t - times[index - 1] > LONGEST_GAP:
            shift += t - times[index - 1] - SHORTENED_GAP
        out.append(t - shift)
    return out


def is_reply(message: Any) -> bool:
    return isinstance(message, dict) and ("return" in message or "error" in message)


def is_event(message: Any) -> bool:
    return isinstance(message, dict) and "event" in message


def pressure_index(entries: list[dict[str, Any]]) -> int:
    """The first event no ``balloon`` command explains: where the guest's memory ran out."""
    last_command = None
    for index, entry in enumerate(entries):
        if entry["dir"] == "send":
            last_command = entry["msg"].get("execute")
        elif is_event(entry["msg"]) and last_command != "balloon":
            return index
    raise AssertionError("the recording shows no pressure")


async def replay(name: str, case: dict[str, Any], directory: str
                 ) -> tuple[list[tuple[float, Any]], list[tuple[float, Any]]]:
    """Replay one transcript; (recorded, simulated) received messages with (shortened) times."""
    entries = load(name)
    times = shortened([entry["t"] for entry in entries])
    spec = VMSpec("recorded", memory=512 * MiB, deflate_on_oom=case.get("deflate_on_oom", True),
                  has_balloon=case.get("has_balloon", True))
    loop = asyncio.get_running_loop()
    async with SimulatedHost(directory, [spec]) as host:
        vm = host.vm("recorded")
        client = await RawQMP.connect(vm.socket_path)
        start = loop.time()
        pressure = None
        if "pressure" in case:
            index = pressure_index(entries)
            final_actual = [e["msg"]["data"]["actual"] for e in entries
                            if is_event(e["msg"]) and e["msg"]["event"] == "BALLOON_CHANGE"][-1]

            async def make_pressure() -> None:
                # Once the balloon has settled, fill the guest so that it runs out of memory
                # (with the recorded fill speed) at the recorded moment.
                await asyncio.sleep(start + times[index] - 1.0 - loop.time())
                fill_time = vm.guest.headroom / FILL_RATE
                await asyncio.sleep(start + times[index] - fill_time - loop.time())
                if case["pressure"] == "deflate":
                    # Enough for the guest to give back exactly the recorded number of MiB.
                    beyond = final_actual - vm.actual - MiB // 2
                else:
                    beyond = 16 * MiB
                vm.fill(vm.guest.headroom + beyond)

            pressure = loop.create_task(make_pressure())
        for entry, t in zip(entries, times, strict=True):
            if entry["dir"] == "send":
                await asyncio.sleep(start + t - loop.time())
                client.send(entry["msg"])
        await asyncio.sleep(start + times[-1] + 0.6 - loop.time())
        if pressure is not None:
            await pressure
        await client.close()
    recorded = [(t, entry["msg"]) for entry, t in zip(entries, times, strict=True)
                if entry["dir"] == "recv"]
    simulated = [(t - start, message) for t, message in client.received]
    return recorded, simulated


def assert_same_value(recorded: Any, simulated: Any, where: str, *, stats: bool = False) -> None:
    """Same JSON types and keys (in order); same values unless they are guest stats numbers."""
    assert type(simulated) is type(recorded), (
        f"{where}: {type(simulated).__name__} where QEMU had {type(recorded).__name__}: "
        f"{simulated!r} vs {recorded!r}")
    if isinstance(recorded, dict):
        assert list(simulated) == list(recorded), f"{where}: keys {list(simulated)} vs QEMU's"
        in_stats = stats or list(recorded) == ["stats", "last-update"]
        for key in recorded:
            assert_same_value(recorded[key], simulated[key], f"{where}.{key}", stats=in_stats)
    elif isinstance(recorded, list):
        assert len(simulated) == len(recorded), f"{where}: {len(simulated)} items vs QEMU's"
        for index, (rec, sim) in enumerate(zip(recorded, simulated, strict=True)):
            assert_same_value(rec, sim, f"{where}[{index}]", stats=stats)
    elif stats and not where.endswith("stat-total-memory"):
        # A number of the guest's: whether it is known (or, for last-update, set) must match.
        sentinel = 0 if where.endswith("last-update") else STATS_UNKNOWN
        assert (simulated == sentinel) == (recorded == sentinel), (
            f"{where}: {simulated} vs QEMU's {recorded}")
    else:
        assert simulated == recorded, f"{where}: {simulated!r} where QEMU said {recorded!r}"


def replies_before(messages: list[tuple[float, Any]], position: int) -> int:
    return sum(1 for _, message in messages[:position] if is_reply(message))


@pytest.mark.parametrize("name", sorted(CASES))
def test_simulator_answers_like_the_recorded_qemu(name: str) -> None:
    loop = new_accelerated_loop(SPEED)
    try:
        with tempfile.TemporaryDirectory(prefix="bt-conformance-") as directory:
            recorded, simulated = loop.run_until_complete(replay(name, CASES[name], directory))
    finally:
        loop.close()

    assert simulated[0][1] == recorded[0][1], "the greeting differs from QEMU 7.2's"

    rec_replies = [m for _, m in recorded if is_reply(m)]
    sim_replies = [m for _, m in simulated if is_reply(m)]
    assert len(sim_replies) == len(rec_replies), f"{len(sim_replies)} replies, QEMU sent " \
                                                 f"{len(rec_replies)}: {sim_replies}"
    for index, (rec, sim) in enumerate(zip(rec_replies, sim_replies, strict=True)):
        assert_same_value(rec, sim, f"reply {index}")

    rec_events = [(i, t, m) for i, (t, m) in enumerate(recorded) if is_event(m)]
    sim_events = [(i, t, m) for i, (t, m) in enumerate(simulated) if is_event(m)]
    assert [m["event"] for _, _, m in sim_events] == [m["event"] for _, _, m in rec_events]
    for (ri, rt, rec), (si, st, sim) in zip(rec_events, sim_events, strict=True):
        where = f"event {rec['event']} at {rt:.3f}"
        assert list(sim) == list(rec), f"{where}: keys {list(sim)}"
        assert list(sim["timestamp"]) == ["seconds", "microseconds"]
        assert all(type(v) is int for v in sim["timestamp"].values())
        assert sim.get("data") == rec.get("data"), f"{where}: data {sim.get('data')}"
        if rec["event"] == "BALLOON_CHANGE":
            # Its place among replies sent within a few ms of it is down to chance: only time.
            assert abs(st - rt) <= TIMING_TOLERANCE, f"{where}: arrived at {st:.3f}"
        else:
            # STOP, RESUME and SHUTDOWN come before the reply of the command that caused them.
            assert replies_before(simulated, si) == replies_before(recorded, ri), where

    recording_ends = recorded[-1][1] == EOF or CASES[name].get("pressure") == "die"
    assert (simulated[-1][1] == EOF) == recording_ends, f"end of stream: {simulated[-1]}"
