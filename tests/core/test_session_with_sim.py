"""Balloon sessions against the simulated QEMU, read as an operator's session."""

from __future__ import annotations

import asyncio

import pytest

from balloontui.core import recognition
from balloontui.core.addresses import VMAddress
from balloontui.core.errors import NoBalloon, Refused
from balloontui.core.monitor import Monitor
from balloontui.core.recognition import NoticeKind
from balloontui.core.session import BalloonSession, SessionSettings
from balloontui.core.sizes import GiB, MiB
from balloontui.core.target_store import TargetStore
from balloontui.core.vm_state import DEFLATE_ON_OOM, Link, TargetSource
from balloontui.sim.host import SimulatedHost
from balloontui.sim.vm import VMSpec

FAST = SessionSettings(poll_interval=0.2, call_timeout=1.0, connect_timeout=1.0, backoff_max=0.5)


async def until(predicate, timeout: float = 8.0, what: str = "condition") -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


class Watch:
    """A monitor on a simulated host, with every notice kept."""

    def __init__(self, host: SimulatedHost, tmp_path, settings=FAST, shared=False):
        self.host = host
        self.store = TargetStore(tmp_path / "targets.json")
        self.monitor = Monitor(
            [VMAddress(path=vm.socket_path, shared=shared) for vm in host],
            settings=settings, store=self.store)
        self.notices = []
        self.monitor.subscribe(on_notice=self.notices.append)

    def session(self, name: str) -> BalloonSession:
        return next(s for s in self.monitor.sessions.values() if s.state.name == name
                    or s.address.path.endswith(f"/{name}.sock"))

    def kinds(self, name: str) -> list[NoticeKind]:
        return [n.kind for n in self.notices if n.vm == name]

    async def __aenter__(self):
        await self.monitor.start()
        await self.monitor.wait_connected(5)
        return self

    async def __aexit__(self, *exc):
        await self.monitor.stop()


def other_client_sets_target(vm, value: int) -> None:
    """Another management tool's `balloon` command, as QEMU would carry it out."""
    vm.device.set_target(value)
    vm.target_changed()


async def test_discovery_of_identity_memory_balloon_and_features(tmp_path):
    specs = [VMSpec("web-01", memory=2 * GiB, deflate_on_oom=True, uuid="6f2c-web"),
             VMSpec("db-01", memory=GiB, deflate_on_oom=False, named=False)]
    async with SimulatedHost(tmp_path / "vms", specs) as host, Watch(host, tmp_path) as watch:
        web = watch.session("web-01").state
        assert web.link is Link.CONNECTED and web.run_state == "running"
        assert web.memory == 2 * GiB and web.actual == 2 * GiB and web.uuid == "6f2c-web"
        assert web.qemu_version == "7.2.22"
        assert web.features.path == "/machine/peripheral/balloon0"
        assert DEFLATE_ON_OOM in web.features.negotiated and web.features.deflate_on_oom
        assert web.stats_interval == 0 and web.target is None
        db = watch.session("db-01").state
        assert db.name == "db-01"  # no -name: the socket's stem
        assert db.features.deflate_on_oom is False
        assert DEFLATE_ON_OOM not in db.features.negotiated


async def test_shrink_web_01_to_1_gib_and_see_actual_follow(tmp_path):
    async with SimulatedHost(tmp_path / "vms", [VMSpec("web-01", memory=2 * GiB)]) as host, \
            Watch(host, tmp_path) as watch:
        session = watch.session("web-01")
        assert await session.set_target(session.parse_target("1G")) == GiB
        await until(lambda: session.state.actual == GiB, what="actual to reach 1 GiB")
        assert host.vm("web-01").actual == GiB
        assert NoticeKind.TARGET_REACHED in watch.kinds("web-01")
        assert NoticeKind.CHANGED_ELSEWHERE not in watch.kinds("web-01")
        assert session.state.target_source is TargetSource.SET_HERE
        assert session.history.points(0, 100).values["target"][-1] == GiB


async def test_stats_appear_after_the_interval_is_set_and_are_put_back_on_exit(tmp_path):
    async with SimulatedHost(tmp_path / "vms", [VMSpec("web-01")]) as host, \
            Watch(host, tmp_path) as watch:
        session = watch.session("web-01")
        first = session.state.stats.last_update
        await session.set_stats_interval(1)
        assert host.vm("web-01").device.poll_interval == 1
        await until(lambda: session.state.stats.last_update not in (None, first), timeout=5,
                    what="a fresh stats report")
        assert session.state.stats.available is not None
        await until(lambda: session.state.rates is not None, timeout=5, what="rates")
    assert host.vm("web-01").device.poll_interval == 0  # put back as it was


async def test_an_interval_someone_else_changed_is_left_alone(tmp_path):
    async with SimulatedHost(tmp_path / "vms", [VMSpec("web-01")]) as host, \
            Watch(host, tmp_path) as watch:
        session = watch.session("web-01")
        await session.set_stats_interval(5)
        host.vm("web-01").device.set_poll_interval(10)
    assert host.vm("web-01").device.poll_interval == 10


async def test_a_deflate_on_oom_episode_is_recognised(tmp_path, monkeypatch):
    monkeypatch.setattr(recognition, "EPISODE_QUIET", 1.0)
    async with SimulatedHost(tmp_path / "vms", [VMSpec("web-01", deflate_on_oom=True)]) as host, \
            Watch(host, tmp_path) as watch:
        session = watch.session("web-01")
        await session.set_target(160 * MiB)
        await until(lambda: session.state.actual == 160 * MiB)
        host.vm("web-01").fill(300 * MiB)
        await until(lambda: NoticeKind.EPISODE_END in watch.kinds("web-01"), timeout=10,
                    what="the episode to end")
        assert session.state.deflated_by_guest and session.state.deflated_by_guest > 50 * MiB
        assert session.state.target == 160 * MiB  # our target stands; the guest went above it
        assert session.state.link is Link.CONNECTED
        assert NoticeKind.DEATH not in watch.kinds("web-01")


async def test_a_guest_without_deflate_on_oom_dies_and_we_say_so(tmp_path):
    async with SimulatedHost(tmp_path / "vms",
                             [VMSpec("web-01", deflate_on_oom=False)]) as host, \
            Watch(host, tmp_path) as watch:
        session = watch.session("web-01")
        await session.set_target(160 * MiB)
        await until(lambda: session.state.actual == 160 * MiB)
        host.vm("web-01").fill(300 * MiB)
        await until(lambda: NoticeKind.DEATH in watch.kinds("web-01"), timeout=10)
        death = next(n for n in watch.notices if n.kind is NoticeKind.DEATH)
        assert "deflate-on-oom was off" in death.text and "guest-reset" in death.text
        assert watch.kinds("web-01").count(NoticeKind.DEATH) == 1  # not again at end of stream
        await until(lambda: session.state.link.is_trouble, what="the link to drop")


async def test_a_restarted_qemu_is_reconnected_and_its_old_target_forgotten(tmp_path):
    async with SimulatedHost(tmp_path / "vms", [VMSpec("web-01")]) as host, \
            Watch(host, tmp_path) as watch:
        session = watch.session("web-01")
        await session.set_target(300 * MiB)
        await until(lambda: session.state.actual == 300 * MiB)
        await host.vm("web-01").restart(after=0.5)
        await until(lambda: session.state.link is Link.DISCONNECTED or
                    session.state.link is Link.UNREACHABLE, what="disconnected")
        await until(lambda: session.state.link is Link.CONNECTED, what="reconnected")
        assert NoticeKind.QEMU_RESTARTED in watch.kinds("web-01")
        assert session.state.target is None and session.state.actual == 512 * MiB


async def test_a_vm_without_a_balloon_is_shown_as_such_and_never_steered(tmp_path):
    async with SimulatedHost(tmp_path / "vms", [VMSpec("web-01", has_balloon=False)]) as host, \
            Watch(host, tmp_path) as watch:
        session = watch.session("web-01")
        assert session.state.features.present is False and session.state.memory == 512 * MiB
        with pytest.raises(NoBalloon):
            await session.set_target(100 * MiB)
        with pytest.raises(NoBalloon):
            await session.set_stats_interval(1)
        sent = {c.command for c in host.vm("web-01").commands}
        assert "balloon" not in sent and "qom-set" not in sent


async def test_read_only_refuses_and_sends_nothing_that_changes_a_vm(tmp_path):
    settings = SessionSettings(poll_interval=0.2, read_only=True, stats_interval=1)
    async with SimulatedHost(tmp_path / "vms", [VMSpec("web-01")]) as host, \
            Watch(host, tmp_path, settings) as watch:
        session = watch.session("web-01")
        with pytest.raises(Refused, match="read-only"):
            await session.set_target(100 * MiB)
        with pytest.raises(Refused, match="read-only"):
            await session.set_stats_interval(1)
        await asyncio.sleep(0.5)
    sent = {c.command for c in host.vm("web-01").commands}
    assert sent and not sent & {"balloon", "qom-set"}


async def test_a_target_is_remembered_for_the_same_qemu_only(tmp_path):
    async with SimulatedHost(tmp_path / "vms", [VMSpec("web-01")]) as host:
        async with Watch(host, tmp_path) as first:
            await first.session("web-01").set_target(400 * MiB)
        async with Watch(host, tmp_path) as second:
            state = second.session("web-01").state
            assert state.target == 400 * MiB and state.target_source is TargetSource.REMEMBERED
        await host.vm("web-01").restart(after=0.1)
        await until(lambda: host.vm("web-01").alive)
        async with Watch(host, tmp_path) as third:
            assert third.session("web-01").state.target is None  # a new QEMU starts empty


async def test_another_client_changing_the_target_is_noticed(tmp_path):
    async with SimulatedHost(tmp_path / "vms", [VMSpec("web-01")]) as host, \
            Watch(host, tmp_path) as watch:
        session = watch.session("web-01")
        await session.set_target(400 * MiB)
        await until(lambda: session.state.actual == 400 * MiB)
        other_client_sets_target(host.vm("web-01"), 200 * MiB)
        await until(lambda: NoticeKind.CHANGED_ELSEWHERE in watch.kinds("web-01"))
        assert session.state.changed_elsewhere and session.state.target is None


async def test_shared_socket_mode_leaves_the_monitor_free(tmp_path):
    settings = SessionSettings(shared_poll_interval=0.3, call_timeout=1.0, connect_timeout=1.0)
    async with SimulatedHost(tmp_path / "vms", [VMSpec("web-01")]) as host, \
            Watch(host, tmp_path, settings, shared=True) as watch:
        session = watch.session("web-01")
        await until(lambda: session.state.actual is not None)
        await session.set_target(300 * MiB)
        await until(lambda: session.state.actual == 300 * MiB)
        vm = host.vm("web-01")
        free_seen = 0
        for _ in range(50):
            free_seen += not vm.client_connected
            await asyncio.sleep(0.01)
        assert free_seen > 35  # held only for the moments of each poll
        connects = sum(1 for c in vm.commands if c.command == "qmp_capabilities")
        discoveries = sum(1 for c in vm.commands if c.command == "x-query-virtio")
        assert connects >= 3 and discoveries == 1  # discovery once per QEMU, not per poll


async def test_one_slow_vm_never_delays_another_and_its_polls_never_overlap(tmp_path):
    async with SimulatedHost(tmp_path / "vms", [VMSpec("slow-01"), VMSpec("fast-01")]) as host, \
            Watch(host, tmp_path) as watch:
        host.vm("slow-01").inject("slow", 700)
        start = asyncio.get_running_loop().time()
        await asyncio.sleep(2.5)
        assert watch.session("slow-01").state.link is Link.CONNECTED

        def polls(name):
            return [c.time for c in host.vm(name).commands
                    if c.command == "query-balloon" and c.time > start]

        fast, slow = polls("fast-01"), polls("slow-01")
        assert len(fast) >= 8  # every 0.2 s, whatever slow-01 does
        assert 1 <= len(slow) <= 4
        assert all(b - a >= 0.7 for a, b in zip(slow, slow[1:]))  # never two at once


async def test_a_hung_qemu_is_reported_not_responding_and_others_go_on(tmp_path):
    async with SimulatedHost(tmp_path / "vms", [VMSpec("hung-01"), VMSpec("ok-01")]) as host, \
            Watch(host, tmp_path) as watch:
        host.vm("hung-01").inject("stop-answering")
        await until(lambda: watch.session("hung-01").state.link is Link.NOT_RESPONDING,
                    timeout=4)
        ok = watch.session("ok-01")
        await ok.set_target(256 * MiB)
        await until(lambda: ok.state.actual == 256 * MiB, timeout=4)


async def test_unreachable_sockets_say_why(tmp_path):
    not_a_socket = tmp_path / "file.sock"
    not_a_socket.write_text("")
    monitor = Monitor([VMAddress(path=str(tmp_path / "missing.sock")),
                       VMAddress(path=str(not_a_socket)),
                       VMAddress(host="127.0.0.1", port=9)], settings=FAST)
    await monitor.start()
    await monitor.wait_connected(5)
    messages = [s.state.link_message for s in monitor.sessions.values()]
    await monitor.stop()
    assert "no socket at" in messages[0] and "is the VM running?" in messages[0]
    assert "is not a socket" in messages[1]
    assert "connection refused" in messages[2]
    assert all(s.state.link is Link.UNREACHABLE for s in monitor.sessions.values())


async def test_pokes_after_commands_do_not_add_polls_for_good(tmp_path):
    """A poke (after a key's command) polls the VM at once, once: it must not leave a second
    chain of polls behind, or each command would add a poll a second for the rest of the run."""
    async with SimulatedHost(tmp_path / "vms", [VMSpec("web-01")]) as host, \
            Watch(host, tmp_path) as watch:
        key = watch.session("web-01").key
        for _ in range(5):
            watch.monitor.poke(key)
            await asyncio.sleep(0.1)
        start = asyncio.get_running_loop().time()
        await asyncio.sleep(2.0)
        polls = [c for c in host.vm("web-01").commands
                 if c.command == "query-balloon" and c.time > start]
        assert len(polls) <= 2.0 / FAST.poll_interval + 1, len(polls)  # one every 0.2 s


async def test_a_poke_during_a_poll_is_not_lost(tmp_path):
    """Poked while a poll is on its way (a command just changed the VM), the VM is polled again
    as soon as that poll ends, not an interval later."""
    settings = SessionSettings(poll_interval=5.0, call_timeout=2.0, connect_timeout=1.0)
    async with SimulatedHost(tmp_path / "vms", [VMSpec("web-01")]) as host, \
            Watch(host, tmp_path, settings=settings) as watch:
        vm, key = host.vm("web-01"), watch.session("web-01").key
        await asyncio.sleep(0.3)
        vm.inject("slow", 300)
        watch.monitor.poke(key)  # a poll starts, and takes 0.3 s
        await asyncio.sleep(0.1)
        start = asyncio.get_running_loop().time()
        watch.monitor.poke(key)  # while it runs
        await until(lambda: any(c.command == "query-balloon" and c.time > start
                                for c in vm.commands), 2.0, "the poke to be answered")


async def test_stats_at_the_poll_interval_are_read_at_every_poll(tmp_path):
    """Stats every second, polls every second: every poll reads them, even when a poll comes a
    hair early (the polls keep their phase, their start times wobble)."""
    settings = SessionSettings(poll_interval=1.0, stats_interval=1, call_timeout=1.0,
                               connect_timeout=1.0)
    async with SimulatedHost(tmp_path / "vms", [VMSpec(f"web-{i:02}") for i in range(5)]) as host, \
            Watch(host, tmp_path, settings=settings):
        await asyncio.sleep(1.5)
        start = asyncio.get_running_loop().time()
        await asyncio.sleep(6.0)
        for vm in host:
            reads = [c for c in vm.commands if c.time > start and c.command == "qom-get"
                     and (c.arguments or {}).get("property") == "guest-stats"]
            polls = [c for c in vm.commands if c.time > start and c.command == "query-balloon"]
            assert len(reads) >= len(polls) - 1 >= 4, (vm.name, len(reads), len(polls))
