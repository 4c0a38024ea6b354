"""What balloontui relies on, shown against a real QEMU 7.2 guest.

Each test boots one tiny guest (~5 s under TCG). Memory pressure comes from ``dd`` into the
guest's tmpfs root; with the balloon at 160 MiB of 512 MiB the guest has ~90 MiB free.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from qemu.qmp import ConnectError, QMPClient, QMPError

from .guest import MiB

pytestmark = pytest.mark.qemu

PRESSURE_MIB = 150  # well past the ~90 MiB free at a 160 MiB balloon, within the ~235 MiB tmpfs


async def connect_like_balloontui(path) -> QMPClient:
    client = QMPClient("balloontui-stand-in")
    await asyncio.wait_for(client.connect(str(path)), 10)
    return client


async def test_both_qmp_sockets_answer_and_the_balloon_reaches_its_target(real_guest):
    vm = await real_guest(name="web-01")
    product = await connect_like_balloontui(vm.qmp_path)
    try:
        assert await asyncio.wait_for(product.execute("query-name"), 10) == {"name": "web-01"}
        assert await vm.check("query-name") == {"name": "web-01"}
        assert await vm.query_actual() == 512 * MiB

        await asyncio.wait_for(product.execute("balloon", {"value": 200 * MiB}), 10)

        assert await vm.wait_for_actual(200 * MiB, timeout=60) == 200 * MiB
    finally:
        await product.disconnect()


async def test_deflate_on_oom_guest_takes_memory_back_under_pressure_and_survives(real_guest):
    vm = await real_guest(name="web-01", deflate_on_oom=True)
    await vm.check("balloon", {"value": 160 * MiB})
    await vm.wait_for_actual(160 * MiB, timeout=60)

    out = await vm.console.run(f"dd if=/dev/zero of=/fill bs=1M count={PRESSURE_MIB} 2>&1",
                               timeout=120)

    assert f"{PRESSURE_MIB}+0 records out" in out
    # The target stays 160 MiB; the guest deflated past it by itself (~1 MiB per MiB written
    # beyond its free memory, so roughly 160 + 150 - 85 here).
    actual = await vm.wait_for_actual(lambda a: a > 200 * MiB, timeout=60)
    assert actual < 512 * MiB
    assert vm.running
    assert await vm.console.run("echo still here") == "still here"
    assert any(e["event"] == "BALLOON_CHANGE" and e["data"]["actual"] > 160 * MiB
               for e in vm.events)


async def test_guest_without_deflate_on_oom_dies_under_the_same_pressure(real_guest):
    vm = await real_guest(name="web-01", deflate_on_oom=False)
    await vm.check("balloon", {"value": 160 * MiB})
    await vm.wait_for_actual(160 * MiB, timeout=60)

    vm.console.send(f"dd if=/dev/zero of=/fill bs=1M count={PRESSURE_MIB}")

    shutdown = await vm.wait_for_event("SHUTDOWN", timeout=90)
    assert shutdown["data"] == {"guest": True, "reason": "guest-reset"}
    assert await vm.wait_exit(timeout=30) == 0
    assert "Out of memory: system-wide panic_on_oom is enabled" in vm.console_tail(200)


async def test_restart_brings_a_killed_vm_back_on_the_same_socket(real_guest):
    vm = await real_guest(name="web-01")
    await vm.check("balloon", {"value": 200 * MiB})
    await vm.wait_for_actual(200 * MiB, timeout=60)
    product = await connect_like_balloontui(vm.qmp_path)

    await vm.kill()

    assert vm.returncode == -9
    assert vm.qmp_path.exists()  # a crashed QEMU leaves its socket file behind...
    with pytest.raises(ConnectError):  # ...and nobody listens on it
        await connect_like_balloontui(vm.qmp_path)
    with pytest.raises(QMPError):  # the client that was connected has lost its QEMU
        await asyncio.wait_for(product.execute("query-balloon"), 10)
    with contextlib.suppress(Exception):  # disconnect() re-raises what broke the connection
        await product.disconnect()

    await vm.restart()

    assert vm.running and vm.boots == 2 and vm.boot_seconds is not None
    await asyncio.wait_for(product.connect(str(vm.qmp_path)), 10)
    try:
        # A fresh QEMU: the balloon is back at the VM's full memory.
        assert await asyncio.wait_for(product.execute("query-balloon"), 10) == {"actual": 512 * MiB}
        assert await vm.console.run("echo back") == "back"
    finally:
        await product.disconnect()
