"""The guest's memory: balloon speed and limits, deflate-on-oom, death, statistics."""

from __future__ import annotations

import pytest

from balloontui.core.sizes import GiB, MiB, PAGE_SIZE
from balloontui.sim.guest_model import (
    BATCH,
    DEFLATE_RATE,
    INFLATE_RATE,
    GuestModel,
    managed_memory,
)
from balloontui.sim.workloads import Workload, WorkloadSpec

MEMORY = 512 * MiB
TICK = 0.05


class Recorder:
    """A guest wired to lists: every actual it writes, and whether it died."""

    def __init__(self, guest: GuestModel) -> None:
        self.guest = guest
        self.actuals: list[tuple[int, float]] = []
        self.died = False
        guest.on_actual = lambda actual, when: self.actuals.append((actual, when))
        guest.on_death = self._died

    def _died(self) -> None:
        self.died = True

    def run(self, start: float, seconds: float) -> float:
        t = start
        while t < start + seconds - 1e-9:
            t += TICK
            self.guest.advance(t)
        return t


def booted_guest(*, deflate_on_oom: bool = True, memory: int = MEMORY, **kw) -> Recorder:
    guest = GuestModel(memory, booted_at=0.0, **kw)
    guest.load_driver(0.0, deflate_on_oom=deflate_on_oom)
    return Recorder(guest)


def balloon_to(rec: Recorder, actual: int, at: float = 0.0) -> float:
    rec.guest.set_target(rec.guest.memory - actual)
    rec.guest.react(at)
    return rec.run(at, 2.0)


def test_the_first_step_of_any_movement_is_one_mib_then_the_balloon_moves_at_speed():
    rec = booted_guest()
    rec.guest.set_target(MEMORY - 128 * MiB)
    rec.guest.react(0.0)
    assert rec.actuals == [(MEMORY - MiB, 0.0)]
    rec.run(0.0, 0.2)
    moved = MEMORY - rec.guest.actual
    assert moved == pytest.approx(INFLATE_RATE * 0.2, abs=2 * MiB)
    end = rec.run(0.2, 1.0)
    assert rec.guest.actual == 128 * MiB
    reached_at = rec.actuals[-1][1]
    assert reached_at == pytest.approx((384 * MiB - MiB) / INFLATE_RATE, abs=0.01), \
        "the final value is stamped when it was reached, not at the tick"
    assert end > reached_at

    rec.actuals.clear()
    rec.guest.set_target(MEMORY - 384 * MiB)
    rec.guest.react(end)
    assert rec.actuals[0][0] == 129 * MiB, "deflating starts with 1 MiB too"
    rec.run(end, 0.05)
    assert rec.guest.actual - 128 * MiB == pytest.approx(DEFLATE_RATE * 0.05, abs=2 * MiB)


def test_the_balloon_only_takes_memory_nobody_needs():
    rec = booted_guest()
    balloon_to(rec, PAGE_SIZE)  # "balloon 4096": as much as the guest can give
    # A real 512 MiB guest stopped at 72.9 MiB; ours stops close to that.
    assert 60 * MiB < rec.guest.actual < 90 * MiB
    assert rec.guest.free >= rec.guest.min_free
    assert not rec.died


def test_with_deflate_on_oom_the_guest_deflates_by_itself_in_mib_steps_and_survives():
    rec = booted_guest(deflate_on_oom=True)
    t = balloon_to(rec, 160 * MiB)
    assert rec.guest.actual == 160 * MiB
    rec.actuals.clear()
    rec.guest.fill(rec.guest.headroom + 143 * MiB + MiB // 2)
    rec.run(t, 3.0)
    assert not rec.died
    assert rec.guest.target_balloon == MEMORY - 160 * MiB, "the host's target did not change"
    actuals = [a for a, _ in rec.actuals]
    assert actuals[0] == 161 * MiB, "the first step is one batch"
    assert all((a - 160 * MiB) % BATCH == 0 for a in actuals), "whole 1 MiB steps"
    assert actuals == sorted(actuals)
    assert rec.guest.actual == 304 * MiB, "just enough for the guest's needs"


def test_without_deflate_on_oom_the_guest_dies_when_memory_runs_out():
    rec = booted_guest(deflate_on_oom=False)
    t = balloon_to(rec, 160 * MiB)
    rec.actuals.clear()
    rec.guest.fill(rec.guest.headroom + 16 * MiB)
    rec.run(t, 2.0)
    assert rec.died
    assert rec.actuals == [], "the balloon never gave anything back"


def test_a_guest_whose_needs_outgrow_even_an_empty_balloon_dies():
    rec = booted_guest(deflate_on_oom=True)
    t = balloon_to(rec, 400 * MiB)
    rec.guest.fill(MEMORY, rate=None)
    rec.run(t, 0.1)
    assert rec.died


def test_total_memory_shrinks_with_the_balloon_only_without_deflate_on_oom():
    for deflate_on_oom, expected in ((True, 492847104), (False, 492847104 - 352 * MiB)):
        rec = booted_guest(deflate_on_oom=deflate_on_oom)
        balloon_to(rec, 160 * MiB)
        stats = rec.guest.stats()
        assert stats["stat-total-memory"] == expected  # as recorded from QEMU 7.2
        assert list(stats) == ["stat-htlb-pgalloc", "stat-swap-out", "stat-available-memory",
                               "stat-htlb-pgfail", "stat-free-memory", "stat-minor-faults",
                               "stat-major-faults", "stat-total-memory", "stat-swap-in",
                               "stat-disk-caches"]


def test_stats_look_like_the_recorded_guest():
    rec = booted_guest()
    stats = rec.guest.stats()
    assert managed_memory(MEMORY) == 492847104
    # The recorded idle guest: free 463171584, available 462811136, caches 2265088.
    assert stats["stat-free-memory"] == pytest.approx(463171584, rel=0.01)
    assert stats["stat-available-memory"] == pytest.approx(462811136, rel=0.01)
    assert stats["stat-disk-caches"] == pytest.approx(2265088, rel=0.05)
    assert all(v % PAGE_SIZE == 0 for k, v in stats.items() if "memory" in k or "cach" in k)


def test_filling_tmpfs_shows_in_disk_caches_but_not_in_available_memory():
    rec = booted_guest()
    before = rec.guest.stats()
    rec.guest.fill(200 * MiB, rate=None)
    rec.run(0.0, 0.1)
    after = rec.guest.stats()
    assert after["stat-disk-caches"] - before["stat-disk-caches"] == 200 * MiB
    assert before["stat-available-memory"] - after["stat-available-memory"] >= 195 * MiB
    rec.guest.release()
    assert rec.guest.stats()["stat-disk-caches"] == before["stat-disk-caches"]


def test_pressure_reclaims_page_cache_and_counts_faults():
    spec = WorkloadSpec(seed=1, baseline=0.2, wave=0, burst_every=0, cache=0.5)
    guest = GuestModel(GiB, workload=Workload(spec, GiB), swap=True)
    guest.load_driver(0.0, deflate_on_oom=True)
    rec = Recorder(guest)
    t = rec.run(0.0, 20.0)
    cached = guest.cache
    assert cached > 200 * MiB, "the workload's files fill the page cache"
    faults = guest.minor_faults
    guest.fill(guest.headroom + 50 * MiB - guest.cache, rate=None)
    rec.run(t, 0.5)
    assert guest.cache < cached - 40 * MiB
    assert guest.major_faults > 0 and guest.swap_out > 0
    assert guest.minor_faults > faults
    assert not rec.died


def test_a_paused_guest_does_not_move():
    rec = booted_guest()
    rec.guest.set_target(MEMORY - 256 * MiB)
    rec.guest.freeze(0.0)
    rec.guest.react(0.0)
    rec.run(0.0, 1.0)
    assert rec.guest.actual == MEMORY
    rec.guest.thaw(1.0)
    rec.guest.react(1.0)
    rec.run(1.0, 1.0)
    assert rec.guest.actual == 256 * MiB


def test_without_a_driver_nothing_moves():
    guest = GuestModel(MEMORY)
    rec = Recorder(guest)
    guest.set_target(256 * MiB)
    guest.react(0.0)
    rec.run(0.0, 1.0)
    assert guest.actual == MEMORY and rec.actuals == []


def test_unloading_the_driver_gives_the_whole_balloon_back():
    rec = booted_guest()
    t = balloon_to(rec, 256 * MiB)
    rec.guest.unload_driver(t)
    assert rec.actuals[-1][0] == MEMORY
    assert not rec.guest.driver_loaded
