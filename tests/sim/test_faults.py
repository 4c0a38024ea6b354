"""Each fault kind, as a client meets it."""

from __future__ import annotations

import asyncio
import json
import os

import pytest

from balloontui.core.sizes import MiB
from balloontui.sim.faults import GARBAGE_LINE, FaultError, parse_fault_spec
from balloontui.sim.qemu72 import STATS_UNKNOWN
from tests.sim.raw_client import EOF, RawQMP

BALLOON = "/machine/peripheral/balloon0"


async def test_hang_accepts_but_never_greets(start_vm, connect):
    vm = await start_vm()
    vm.inject("hang")
    client = await connect(vm, negotiate=False)
    client.send({"execute": "qmp_capabilities"})
    await asyncio.sleep(0.5)
    assert client.received == []
    assert vm.commands[-1].command == "qmp_capabilities", "received, just not answered"
    vm.clear_fault("hang")
    await client.wait_for(lambda c: len(c.received) >= 1)
    assert "QMP" in client.received[0][1]


async def test_stop_answering_greets_then_says_nothing_more(start_vm, connect):
    vm = await start_vm()
    client = await connect(vm)
    vm.inject("stop-answering")
    start = len(client.received)
    client.send({"execute": "query-status"})
    vm.pause()
    await asyncio.sleep(0.5)
    assert len(client.received) == start, "no reply and no event"
    fresh_vm = await start_vm("other")
    fresh_vm.inject("stop-answering")
    fresh = await connect(fresh_vm, negotiate=False)
    await fresh.greeting()
    fresh.send({"execute": "qmp_capabilities"})
    await asyncio.sleep(0.5)
    assert len(fresh.received) == 1, "the greeting only"


async def test_garbage_replies_are_not_json(start_vm, connect):
    vm = await start_vm()
    vm.inject("garbage")
    client = await connect(vm)  # qmp_capabilities is spared
    assert await client.execute("query-balloon") == GARBAGE_LINE.rstrip(b"\r\n")


async def test_truncated_reply_then_end_of_stream(start_vm, connect):
    vm = await start_vm()
    vm.inject("truncated")
    client = await connect(vm)
    client.send({"execute": "query-status"})
    await client.wait_for(lambda c: c.closed)
    partial = client.received[-2][1]
    assert isinstance(partial, bytes) and partial.startswith(b'{"return": {"stat')
    with pytest.raises(ValueError):
        json.loads(partial)
    assert os.path.exists(vm.socket_path), "only the connection closed, QEMU lives on"


async def test_wrong_types_in_replies_and_events(start_vm, connect):
    vm = await start_vm()
    vm.inject("wrong-types")
    client = await connect(vm)
    assert await client.execute("query-balloon") == {"return": {"actual": str(512 * MiB)}}
    assert (await client.execute("query-status"))["return"]["running"] == "true"
    await client.execute("balloon", {"value": 256 * MiB})
    await client.wait_for(lambda c: c.events)
    assert client.events[0]["data"] == {"actual": str(511 * MiB)}


async def test_missing_fields(start_vm, connect):
    vm = await start_vm()
    vm.inject("missing-fields")
    client = await connect(vm)
    assert await client.execute("query-balloon") == {"return": {}}
    assert await client.execute("qom-get", {"path": BALLOON, "property": "guest-stats"}) == {
        "return": {}}
    await client.execute("balloon", {"value": 256 * MiB})
    await client.wait_for(lambda c: c.events)
    assert client.events[0]["data"] == {}


async def test_huge_reply_is_several_mib_of_valid_json(start_vm, connect):
    vm = await start_vm()
    vm.inject("huge-reply", 5)
    client = await connect(vm)
    reply = await client.execute("query-balloon", timeout=20)
    assert reply["return"]["actual"] == 512 * MiB
    assert len(json.dumps(reply)) > 5 * MiB


async def test_slow_delays_every_reply(start_vm, connect):
    vm = await start_vm()
    vm.inject("slow", 400)
    loop = asyncio.get_running_loop()
    started = loop.time()
    client = await connect(vm)
    assert await client.execute("query-status", timeout=5)
    assert loop.time() - started >= 0.8, "capabilities and the command: 400 ms each"
    vm.clear_fault("slow")
    started = loop.time()
    await client.execute("query-status")
    assert loop.time() - started < 0.3


async def test_kill_ends_the_stream_and_removes_the_socket(start_vm, connect):
    vm = await start_vm()
    client = await connect(vm)
    vm.inject("kill")
    await client.wait_for(lambda c: c.closed)
    await asyncio.sleep(0.05)
    assert not os.path.exists(vm.socket_path)
    assert not vm.alive and vm.status == "shutdown"
    await asyncio.sleep(0.5)
    assert not os.path.exists(vm.socket_path), "a killed QEMU stays dead"


async def test_restart_comes_back_on_the_same_path_as_a_new_qemu(start_vm, connect):
    vm = await start_vm(boot_seconds=0.3)
    inode = os.stat(vm.socket_path).st_ino
    client = await connect(vm)
    await client.execute("balloon", {"value": 256 * MiB})
    await client.wait_for(lambda c: c.events)
    vm.inject("restart", 0.4)
    await client.wait_for(lambda c: c.closed)
    await asyncio.sleep(0.1)
    assert not os.path.exists(vm.socket_path)
    await asyncio.sleep(0.5)
    assert os.stat(vm.socket_path).st_ino != inode
    again = await connect(vm)
    assert await again.execute("query-balloon") == {"return": {"actual": 512 * MiB}}
    stats = await again.execute("qom-get", {"path": BALLOON, "property": "guest-stats"})
    assert stats["return"]["last-update"] == 0, "a fresh boot: the driver has not reported yet"


async def test_no_driver_accepts_targets_but_nothing_moves(start_vm, connect):
    vm = await start_vm(has_driver=False)
    client = await connect(vm)
    assert await client.execute("balloon", {"value": 256 * MiB}) == {"return": {}}
    await asyncio.sleep(0.5)
    assert await client.execute("query-balloon") == {"return": {"actual": 512 * MiB}}
    stats = await client.execute("qom-get", {"path": BALLOON, "property": "guest-stats"})
    assert set(stats["return"]["stats"].values()) == {STATS_UNKNOWN}
    vm.clear_fault("no-driver")  # modprobe: the driver loads, reports, and inflates
    await client.wait_for(lambda c: c.events and c.events[-1]["data"]["actual"] == 256 * MiB,
                          timeout=10)


async def test_no_driver_at_run_time_gives_the_balloon_back(start_vm, connect):
    vm = await start_vm()
    client = await connect(vm)
    await client.execute("balloon", {"value": 256 * MiB})
    await client.wait_for(lambda c: c.events and c.events[-1]["data"]["actual"] == 256 * MiB,
                          timeout=10)
    vm.inject("no-driver")
    await client.wait_for(lambda c: c.events[-1]["data"]["actual"] == 512 * MiB, timeout=10)
    await client.execute("balloon", {"value": 128 * MiB})
    await asyncio.sleep(0.3)
    assert await client.execute("query-balloon") == {"return": {"actual": 512 * MiB}}


async def test_pause_and_resume_from_elsewhere(start_vm, connect):
    vm = await start_vm()
    client = await connect(vm)
    vm.inject("pause")
    vm.inject("resume")
    await client.wait_for(lambda c: len(c.events) == 2)
    assert [e["event"] for e in client.events] == ["STOP", "RESUME"]


async def test_every_command_and_event_is_recorded(start_vm, connect):
    vm = await start_vm()
    client = await connect(vm, negotiate=False)
    await client.greeting()
    client.send(b"garbage\n")
    await client.execute("qmp_capabilities")
    await client.execute("qom-get", {"path": BALLOON, "property": "deflate-on-oom"})
    await client.execute("stop")
    assert [r.command for r in vm.commands] == [None, "qmp_capabilities", "qom-get", "stop"]
    assert vm.commands[2].arguments == {"path": BALLOON, "property": "deflate-on-oom"}
    assert vm.commands[1].time <= vm.commands[2].time
    assert vm.event_names() == ["STOP"]
    assert vm.events[-1].delivered


def test_fault_specs_from_the_command_line():
    assert parse_fault_spec("web-01:slow=500") == ("web-01", "slow", 500.0)
    assert parse_fault_spec("db-01:hang") == ("db-01", "hang", None)
    for bad in ("web-01", "web-01:melt", ":hang", "web-01:slow=fast"):
        with pytest.raises(FaultError):
            parse_fault_spec(bad)


async def test_a_second_vm_is_not_disturbed_by_the_first_ones_faults(start_vm, connect):
    sick = await start_vm("sick")
    sick.inject("garbage")
    healthy = await start_vm("healthy")
    client = await connect(healthy)
    assert await client.execute("query-balloon") == {"return": {"actual": 512 * MiB}}
    assert EOF not in [m for _, m in client.received]
    assert isinstance(await (await connect(sick)).execute("query-status"), bytes)


async def test_raw_client_sanity(start_vm):
    vm = await start_vm()
    client = await RawQMP.connect(vm.socket_path)
    try:
        assert "QMP" in await client.greeting()
    finally:
        await client.close()
