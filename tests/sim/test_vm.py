"""A simulated VM seen over QMP: commands, stats reports, reset, death and restart."""

from __future__ import annotations

import asyncio
import os

from balloontui.core.sizes import GiB, MiB
from balloontui.sim.qemu72 import FEATURE_DEFLATE_ON_OOM, STATS_UNKNOWN

BALLOON = "/machine/peripheral/balloon0"
BACKEND = "/machine/peripheral/balloon0/virtio-backend"


async def stats(client) -> dict:
    reply = await client.execute("qom-get", {"path": BALLOON, "property": "guest-stats"})
    return reply["return"]


def changes(client) -> list[int]:
    return [e["data"]["actual"] for e in client.events if e["event"] == "BALLOON_CHANGE"]


async def test_identity_queries(start_vm, connect):
    vm = await start_vm("web-01", memory=2 * GiB, uuid="6a4c1c62-3a5e-4c36-9d1e-0a8f1e2b7c11")
    client = await connect(vm)
    assert await client.execute("query-name") == {"return": {"name": "web-01"}}
    assert await client.execute("query-uuid") == {
        "return": {"UUID": "6a4c1c62-3a5e-4c36-9d1e-0a8f1e2b7c11"}}
    assert await client.execute("query-memory-size-summary") == {
        "return": {"base-memory": 2 * GiB, "plugged-memory": 0}}
    assert (await client.execute("query-version"))["return"]["qemu"] == {
        "micro": 22, "minor": 2, "major": 7}


async def test_an_unnamed_vm_without_uuid(start_vm, connect):
    vm = await start_vm(named=False)
    client = await connect(vm)
    assert await client.execute("query-name") == {"return": {}}
    assert await client.execute("query-uuid") == {
        "return": {"UUID": "00000000-0000-0000-0000-000000000000"}}


async def test_shrink_the_vm_and_see_actual_follow(start_vm, connect):
    vm = await start_vm(memory=GiB)
    client = await connect(vm)
    assert await client.execute("balloon", {"value": 512 * MiB}) == {"return": {}}
    await client.wait_for(lambda c: changes(c)[-1:] == [512 * MiB], timeout=10)
    assert changes(client)[0] == GiB - MiB
    assert await client.execute("query-balloon") == {"return": {"actual": 512 * MiB}}
    assert vm.commands[-2].command == "balloon"
    assert vm.commands[-2].arguments == {"value": 512 * MiB}


async def test_balloon_argument_errors_are_qemus(start_vm, connect):
    vm = await start_vm()
    client = await connect(vm)
    size = {"error": {"class": "GenericError", "desc": "Parameter 'target' expects a size"}}
    assert await client.execute("balloon", {"value": 0}) == size
    assert await client.execute("balloon", {"value": -5}) == size
    for bad in ("lots", 1.5, True, None, 2**64):
        assert await client.execute("balloon", {"value": bad}) == {"error": {
            "class": "GenericError",
            "desc": "Invalid parameter type for 'value', expected: integer"}}, bad
    assert (await client.execute("balloon", {}))["error"]["desc"] == "Parameter 'value' is missing"
    assert await client.execute("balloon", {"value": 10**15}) == {"return": {}}
    assert vm.target == 512 * MiB, "a target above memory is clamped"


async def test_a_vm_without_balloon_device(start_vm, connect):
    vm = await start_vm(has_balloon=False)
    client = await connect(vm)
    inactive = {"error": {"class": "DeviceNotActive",
                          "desc": "No balloon device has been activated"}}
    assert await client.execute("query-balloon") == inactive
    assert await client.execute("balloon", {"value": 128 * MiB}) == inactive
    assert await client.execute("qom-list", {"path": "/machine/peripheral"}) == {
        "return": [{"name": "type", "type": "string"}]}
    assert await client.execute("x-query-virtio") == {"return": []}
    assert await client.execute("qom-get", {"path": BALLOON, "property": "guest-stats"}) == {
        "error": {"class": "DeviceNotFound", "desc": f"Device '{BALLOON}' not found"}}


async def test_qom_properties_and_their_errors(start_vm, connect):
    vm = await start_vm(deflate_on_oom=False)
    client = await connect(vm)

    async def get(prop, path=BALLOON):
        return await client.execute("qom-get", {"path": path, "property": prop})

    async def set_(prop, value, path=BALLOON):
        return await client.execute("qom-set", {"path": path, "property": prop, "value": value})

    assert await get("deflate-on-oom") == {"return": False}
    assert await get("deflate-on-oom", "balloon0") == {"return": False}, "partial path"
    assert await get("type") == {"return": "virtio-balloon-pci"}
    assert await get("virtio-bus") == {"return": f"{BALLOON}/virtio-bus"}
    assert (await set_("deflate-on-oom", True))["error"]["desc"] == (
        "Attempt to set property 'deflate-on-oom' on anonymous device "
        "(type 'virtio-balloon-device') after it was realized")
    assert (await set_("addr", 3))["error"]["desc"] == (
        "Attempt to set property 'addr' on device 'balloon0' (type 'virtio-balloon-pci') "
        "after it was realized")
    assert (await set_("guest-stats", {}))["error"]["desc"] == (
        "Property 'virtio-balloon-device.guest-stats' is not writable")
    assert (await set_("guest-stats-polling-interval", -1))["error"]["desc"] == (
        "timer value must be greater than zero")
    assert (await set_("guest-stats-polling-interval", 2**32))["error"]["desc"] == (
        "timer value is too big")
    assert (await set_("guest-stats-polling-interval", "x"))["error"]["desc"] == (
        "Invalid parameter type for 'guest-stats-polling-interval', expected: integer")
    assert (await get("nope"))["error"]["desc"] == (
        "Property 'virtio-balloon-pci.nope' not found")
    assert (await get("nope", BACKEND))["error"]["desc"] == (
        "Property 'virtio-balloon-device.nope' not found")
    listing = (await client.execute("qom-list", {"path": BACKEND}))["return"]
    assert listing[-1] == {"name": "guest-stats", "type": "guest statistics"}


async def test_virtio_features_follow_the_property_and_the_driver(start_vm, connect):
    on = await start_vm("on", deflate_on_oom=True)
    client = await connect(on)
    status = (await client.execute("x-query-virtio-status", {"path": BACKEND}))["return"]
    assert FEATURE_DEFLATE_ON_OOM in status["guest-features"]["dev-features"]
    assert FEATURE_DEFLATE_ON_OOM in status["host-features"]["dev-features"]
    on.inject("no-driver")
    status = (await client.execute("x-query-virtio-status", {"path": BACKEND}))["return"]
    assert status["guest-features"] == {"dev-features": [], "transports": []}
    assert status["started"] is False and status["status"] == {"statuses": []}
    bad = await client.execute("x-query-virtio-status", {"path": BALLOON})
    assert bad["error"]["desc"] == f"Path {BALLOON} is not a VirtIODevice"


async def test_stats_come_from_the_driver_at_load_then_every_interval(start_vm, connect):
    vm = await start_vm(boot_seconds=0.3)
    client = await connect(vm)
    loaded = await stats(client)
    assert loaded["last-update"] > 0, "the driver reports once when it loads"
    assert STATS_UNKNOWN not in loaded["stats"].values()
    await client.execute("balloon", {"value": 256 * MiB})
    await asyncio.sleep(0.6)
    assert await stats(client) == loaded, "no new report while the interval is 0"

    await client.execute("qom-set", {"path": BALLOON, "property": "guest-stats-polling-interval",
                                     "value": 1})
    await asyncio.sleep(0.05)
    first = await stats(client)
    assert first["stats"]["stat-free-memory"] < loaded["stats"]["stat-free-memory"] - 200 * MiB
    await asyncio.sleep(1.2)
    assert (await stats(client))["last-update"] >= first["last-update"] + 1


async def test_no_stats_until_a_fresh_guests_driver_loads(start_vm, connect):
    vm = await start_vm(boot_seconds=0.4)
    await vm.restart(after=0.0)
    await asyncio.sleep(0.05)
    client = await connect(vm)
    fresh = await stats(client)
    assert fresh == {"stats": dict.fromkeys(fresh["stats"], STATS_UNKNOWN), "last-update": 0}
    await asyncio.sleep(0.5)
    assert (await stats(client))["last-update"] > 0


async def test_reset_keeps_actual_until_the_driver_is_back_then_returns_to_the_target(
        start_vm, connect):
    vm = await start_vm(boot_seconds=0.4)
    client = await connect(vm)
    await client.execute("balloon", {"value": 256 * MiB})
    await client.wait_for(lambda c: changes(c)[-1:] == [256 * MiB], timeout=10)
    await asyncio.sleep(1.05)  # let the throttle's period end
    start = len(client.received)
    assert await client.execute("system_reset") == {"return": {}}
    await asyncio.sleep(0.1)
    after = [m for _, m in client.received[start:]]
    assert after[0]["event"] == "RESET"
    assert after[0]["data"] == {"guest": False, "reason": "host-qmp-system-reset"}
    assert after[1] == {"return": {}}
    assert after[2]["data"] == {"guest": True, "reason": "guest-reset"}
    assert await client.execute("query-balloon") == {"return": {"actual": 256 * MiB}}
    before = len(changes(client))
    await client.wait_for(lambda c: changes(c)[-1:] == [256 * MiB] and
                          len(changes(c)) > before + 1, timeout=10)
    assert changes(client)[before] == 512 * MiB - MiB, "the driver starts from empty"


async def test_a_paused_vm_holds_its_balloon(start_vm, connect):
    vm = await start_vm()
    client = await connect(vm)
    assert (await client.execute("stop")) == {"return": {}}
    assert client.events[-1]["event"] == "STOP"
    assert await client.execute("stop") == {"return": {}}
    assert [e["event"] for e in client.events] == ["STOP"], "no second STOP"
    await client.execute("balloon", {"value": 256 * MiB})
    await asyncio.sleep(0.3)
    assert await client.execute("query-balloon") == {"return": {"actual": 512 * MiB}}
    assert (await client.execute("query-status"))["return"] == {
        "status": "paused", "singlestep": False, "running": False}
    await client.execute("cont")
    await client.wait_for(lambda c: changes(c)[-1:] == [256 * MiB], timeout=10)


async def test_without_deflate_on_oom_the_guest_dies_and_the_vm_comes_back(start_vm, connect):
    vm = await start_vm(deflate_on_oom=False, restart_after_death=0.3, boot_seconds=0.2)
    inode = os.stat(vm.socket_path).st_ino
    client = await connect(vm)
    await client.execute("balloon", {"value": 160 * MiB})
    await client.wait_for(lambda c: changes(c)[-1:] == [160 * MiB], timeout=10)
    vm.fill(vm.guest.headroom + 8 * MiB, rate=None)
    await client.wait_for(lambda c: c.closed, timeout=10)
    assert client.events[-1]["event"] == "SHUTDOWN"
    assert client.events[-1]["data"] == {"guest": True, "reason": "guest-reset"}
    assert not os.path.exists(vm.socket_path)
    await asyncio.sleep(0.5)
    assert os.stat(vm.socket_path).st_ino != inode, "a new QEMU, a new socket file"
    again = await connect(vm)
    assert await again.execute("query-balloon") == {"return": {"actual": 512 * MiB}}
    assert vm.starts == 2


async def test_with_deflate_on_oom_actual_rises_above_an_unchanged_target(start_vm, connect):
    vm = await start_vm(deflate_on_oom=True)
    client = await connect(vm)
    await client.execute("balloon", {"value": 160 * MiB})
    await client.wait_for(lambda c: changes(c)[-1:] == [160 * MiB], timeout=10)
    await asyncio.sleep(1.05)
    vm.fill(vm.guest.headroom + 100 * MiB)
    await client.wait_for(lambda c: changes(c)[-1:] == [260 * MiB], timeout=10)
    assert changes(client)[-2] == 161 * MiB
    assert vm.target == 160 * MiB and vm.alive
