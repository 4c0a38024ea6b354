"""The balloon core and the headless commands against real QEMU 7.2 guests.

balloontui holds each guest's first QMP socket; the test checks through the second.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest

from balloontui.core.addresses import VMAddress
from balloontui.core.monitor import Monitor
from balloontui.core.recognition import NoticeKind
from balloontui.core.session import SessionSettings
from balloontui.core.target_store import TargetStore
from balloontui.core.vm_state import DEFLATE_ON_OOM, Link

from .guest import MiB

pytestmark = pytest.mark.qemu

PRESSURE_MIB = 150  # past the ~90 MiB a 512 MiB guest has free at a 160 MiB balloon


async def until(predicate, timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


class Watching:
    """balloontui's core watching one real guest."""

    def __init__(self, guest, tmp_path):
        self.monitor = Monitor([VMAddress(path=str(guest.qmp_path))],
                               settings=SessionSettings(call_timeout=10, connect_timeout=10),
                               store=TargetStore(tmp_path / "targets.json"))
        self.session = next(iter(self.monitor.sessions.values()))
        self.notices = []
        self.monitor.subscribe(on_notice=self.notices.append)

    def kinds(self):
        return [n.kind for n in self.notices]

    async def __aenter__(self):
        await self.monitor.start()
        await until(lambda: self.session.state.link is Link.CONNECTED, 30, "a connection")
        return self

    async def __aexit__(self, *exc):
        await self.monitor.stop()


async def test_discovery_features_and_stats_after_the_interval_is_set(real_guest, tmp_path):
    vm = await real_guest(name="web-01", deflate_on_oom=True)
    async with Watching(vm, tmp_path) as watching:
        state = watching.session.state
        assert state.name == "web-01" and state.memory == 512 * MiB
        assert state.actual == 512 * MiB and state.qemu_version.startswith("7.2")
        assert state.features.path == "/machine/peripheral/balloon0"
        assert state.features.deflate_on_oom is True
        await until(lambda: state.features.negotiated is not None, 30, "negotiated features")
        assert DEFLATE_ON_OOM in state.features.negotiated
        before = state.stats.last_update if state.stats else None

        await watching.session.set_stats_interval(1)

        assert await vm.check("qom-get", {"path": "/machine/peripheral/balloon0",
                                          "property": "guest-stats-polling-interval"}) == 1
        await until(lambda: state.stats is not None and state.stats.last_update not in
                    (None, before) and state.stats.available is not None, 20, "fresh stats")
        assert 0 < state.stats.available < 512 * MiB
    # balloontui turned stats on, so it put the old value back when it stopped.
    assert await vm.check("qom-get", {"path": "/machine/peripheral/balloon0",
                                      "property": "guest-stats-polling-interval"}) == 0


def balloontui(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "balloontui", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **env})


async def test_set_200m_is_reached_and_stat_shows_it(real_guest, tmp_path):
    vm = await real_guest(name="web-01")
    env = {"XDG_STATE_HOME": str(tmp_path / "state")}
    result = await asyncio.to_thread(balloontui, "set", str(vm.qmp_path), "200M", env=env)
    assert result.returncode == 0, result.stderr
    assert "reached 200 MiB" in result.stdout
    assert await vm.query_actual() == 200 * MiB

    result = await asyncio.to_thread(balloontui, "stat", str(vm.qmp_path), "--json", env=env)
    assert result.returncode == 0, result.stderr
    (shown,) = json.loads(result.stdout)
    assert shown["actual"] == 200 * MiB and shown["target"] == 200 * MiB
    assert shown["target_source"] == "remembered"


async def test_a_deflate_on_oom_episode_is_recognised(real_guest, tmp_path):
    vm = await real_guest(name="web-01", deflate_on_oom=True)
    async with Watching(vm, tmp_path) as watching:
        await watching.session.set_target(160 * MiB)
        await vm.wait_for_actual(160 * MiB, timeout=60)
        await vm.console.run(f"dd if=/dev/zero of=/fill bs=1M count={PRESSURE_MIB}", timeout=120)
        await until(lambda: NoticeKind.EPISODE_START in watching.kinds(), 60, "the episode")
        state = watching.session.state
        await until(lambda: (state.deflated_by_guest or 0) > 20 * MiB, 30, "the deflation")
        assert state.target == 160 * MiB and vm.running
        assert NoticeKind.DEATH not in watching.kinds()


async def test_a_death_under_balloon_pressure_without_deflate_on_oom(real_guest, tmp_path):
    vm = await real_guest(name="web-01", deflate_on_oom=False)
    async with Watching(vm, tmp_path) as watching:
        await watching.session.set_target(160 * MiB)
        await vm.wait_for_actual(160 * MiB, timeout=60)
        vm.console.send(f"dd if=/dev/zero of=/fill bs=1M count={PRESSURE_MIB}")
        await until(lambda: NoticeKind.DEATH in watching.kinds(), 60, "the death")
        death = next(n for n in watching.notices if n.kind is NoticeKind.DEATH)
        assert "deflate-on-oom was off" in death.text
        assert "352 MiB in the balloon" in death.text
        await until(lambda: watching.session.state.link.is_trouble, 30, "the link to drop")


async def test_a_vm_restarted_under_the_session_is_reconnected(real_guest, tmp_path):
    vm = await real_guest(name="web-01")
    async with Watching(vm, tmp_path) as watching:
        state = watching.session.state
        await watching.session.set_target(300 * MiB)
        await vm.wait_for_actual(300 * MiB, timeout=60)
        await vm.restart()
        await until(lambda: NoticeKind.QEMU_RESTARTED in watching.kinds(), 60, "the restart")
        await until(lambda: state.link is Link.CONNECTED, 30, "a new connection")
        assert state.target is None  # a new QEMU starts with an empty balloon
        await until(lambda: state.actual == 512 * MiB, 30, "a fresh balloon")
