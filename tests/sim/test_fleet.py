"""The seeded fleet of `balloontui sim`: varied, lively, and the same for the same seed."""

from __future__ import annotations

import asyncio
import re

from balloontui.core.sizes import GiB, MiB
from balloontui.sim.fleet import plan_fleet
from balloontui.sim.guest_model import GuestModel
from balloontui.sim.host import SimulatedHost
from balloontui.sim.vm_spec import VMSpec
from balloontui.sim.workloads import Workload, WorkloadSpec


def test_the_same_seed_gives_the_same_fleet_and_another_seed_another():
    assert plan_fleet(20, seed=7) == plan_fleet(20, seed=7)
    assert plan_fleet(20, seed=7) != plan_fleet(20, seed=8)


def test_the_fleet_is_varied_like_a_real_host():
    specs = plan_fleet(20, seed=1)
    names = [spec.name for spec in specs]
    assert names[:3] == ["web-01", "db-01", "cache-01"]
    assert all(re.fullmatch(r"[a-z]+-\d\d", name) for name in names)
    assert len(set(names)) == len(names)
    assert all(GiB <= spec.memory <= 16 * GiB for spec in specs)
    assert len({spec.memory for spec in specs}) >= 3
    with_balloon = [spec for spec in specs if spec.has_balloon]
    assert 1 <= len(specs) - len(with_balloon) <= 2
    doo_off = [spec for spec in with_balloon if not spec.deflate_on_oom]
    assert 0 < len(doo_off) < len(with_balloon) / 2
    assert any(spec.initial_target for spec in with_balloon)
    assert sum(not spec.named for spec in specs) == 1


def test_workloads_are_functions_of_time_and_seed():
    spec = WorkloadSpec(seed=42, burst_every=30, burst_size=0.3, ramp_seconds=2)
    one, two = Workload(spec, 4 * GiB), Workload(spec, 4 * GiB)
    times = [t * 0.7 for t in range(2000)]
    forward = [one.anon(t) for t in times]
    backward = [two.anon(t) for t in reversed(times)][::-1]
    assert forward == backward, "the same whatever the order of the questions"
    assert len(set(forward)) > 100, "it varies"
    assert any(one.ramping(t) for t in times), "and has bursts"
    other = Workload(WorkloadSpec(seed=43, burst_every=30, burst_size=0.3), 4 * GiB)
    assert [other.anon(t) for t in times] != forward


def test_now_and_then_a_ballooned_build_machine_deflates_by_itself():
    spec = next(s for s in plan_fleet(10, seed=0) if s.name == "build-01")
    assert spec.deflate_on_oom and spec.initial_target
    guest = GuestModel(spec.memory, workload=Workload(spec.workload, spec.memory))
    guest.load_driver(0.0, deflate_on_oom=True)
    guest.set_target(spec.memory - spec.initial_target)
    guest.place_balloon()
    died: list[bool] = []
    guest.on_death = lambda: died.append(True)
    highest = 0
    t = 0.0
    while t < 600:
        t += 0.05
        guest.advance(t)
        highest = max(highest, guest.actual)
    assert highest > spec.initial_target + 64 * MiB, "a deflate-on-oom episode"
    assert not died


async def test_a_seeded_host_starts_the_same_way_twice(sock_dir):
    starts = []
    for _ in range(2):
        host = SimulatedHost(sock_dir, seed=5, count=12)
        await host.start()
        starts.append({vm.name: (vm.actual, vm.spec.memory) for vm in host})
        await host.stop()
    assert starts[0] == starts[1]
    assert any(actual is None for actual, _ in starts[0].values()), "a VM without a balloon"
    assert any(actual is not None and actual < memory for actual, memory in starts[0].values()), \
        "some VMs start ballooned"


async def test_idle_vms_cost_nothing_between_slow_ticks(make_host):
    host = await make_host(*(VMSpec(f"idle-{i:03d}") for i in range(300)))
    vm = host.vm("idle-007")
    vm.set_target(256 * MiB)
    await asyncio.sleep(0.1)
    assert host.ticker.fast_count == 1, "only the VM whose balloon moves is followed closely"
