"""A varied, seeded fleet of VMs for ``balloontui sim`` and for hosts built with a seed.

Names say what runs there (``web-01``, ``db-01``, ``cache-01``, ...); memory is 1–16 GiB; most
VMs have deflate-on-oom, some do not; one or two have no balloon device; some start ballooned (as
if a management tool had set a target earlier); one VM is unnamed (``query-name`` → ``{}``).
Build and CI machines have big bursts; the first build machine is ballooned to about half its
memory, so now and then it runs into a deflate-on-oom episode. A guest that dies comes back
after a few seconds. The same seed always gives the same fleet.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, replace

from balloontui.core.sizes import GiB, MiB
from balloontui.sim.vm_spec import VMSpec
from balloontui.sim.workloads import WorkloadSpec


@dataclass(frozen=True, slots=True)
class _Role:
    name: str
    memory_gib: tuple[int, ...]
    baseline: float
    wave: float
    burst_size: float
    burst_every: float
    cache: float
    may_lack_deflate_on_oom: bool = True


ROLES = (
    _Role("web", (1, 2, 4), 0.20, 0.08, 0.15, 90, 0.20),
    _Role("db", (4, 8, 16), 0.45, 0.05, 0.10, 300, 0.30),
    _Role("cache", (2, 4, 8), 0.50, 0.03, 0.06, 240, 0.05),
    _Role("app", (2, 4), 0.30, 0.10, 0.20, 120, 0.15),
    _Role("build", (4, 8), 0.10, 0.05, 0.45, 150, 0.25, may_lack_deflate_on_oom=False),
    _Role("queue", (1, 2), 0.15, 0.10, 0.25, 60, 0.10),
    _Role("search", (8, 16), 0.40, 0.04, 0.12, 200, 0.30),
    _Role("ci", (2, 4), 0.10, 0.05, 0.50, 100, 0.20, may_lack_deflate_on_oom=False),
    _Role("mail", (1, 2), 0.20, 0.05, 0.10, 180, 0.15),
    _Role("proxy", (1,), 0.15, 0.05, 0.10, 120, 0.10),
)


def plan_fleet(count: int, seed: int = 0) -> list[VMSpec]:
    """``count`` varied VM specs, the same for the same ``seed``."""
    rng = random.Random(seed)
    numbers: dict[str, int] = {}
    specs: list[VMSpec] = []
    # The first build machine is the one that surely has deflate-on-oom episodes (below).
    episodic = next((i for i in range(count) if ROLES[i % len(ROLES)].name == "build"), None)
    no_balloon = _pick(rng, count, 1 if count < 12 else 2, avoid={0, episodic})
    unnamed = _pick(rng, count, 1 if count >= 6 else 0, avoid={0} | no_balloon)
    strict = {index for index in range(count)
              if not ROLES[index % len(ROLES)].may_lack_deflate_on_oom}
    no_deflate = _pick(rng, count, round(count * 0.2) if count >= 4 else 0,
                       avoid=strict | no_balloon)
    for index in range(count):
        role = ROLES[index % len(ROLES)]
        numbers[role.name] = numbers.get(role.name, 0) + 1
        name = f"{role.name}-{numbers[role.name]:02d}"
        memory = rng.choice(role.memory_gib) * GiB
        deflate_on_oom = index not in no_deflate
        workload = WorkloadSpec(
            seed=rng.getrandbits(32),
            baseline=role.baseline * rng.uniform(0.8, 1.2),
            wave=role.wave * rng.uniform(0.5, 1.5),
            wave_period=rng.uniform(120, 600),
            burst_every=role.burst_every * rng.uniform(0.7, 1.3),
            burst_size=role.burst_size * rng.uniform(0.7, 1.0),
            burst_seconds=rng.uniform(5, 30),
            ramp_seconds=rng.uniform(1, 4),
            cache=role.cache * rng.uniform(0.7, 1.3),
        )
        target = None
        if index == episodic:
            # Ballooned to about half, with bursts past that: the guest deflates by itself.
            workload = replace(workload, burst_every=rng.uniform(60, 90),
                               burst_size=rng.uniform(0.45, 0.55))
            target = int(memory * rng.uniform(0.45, 0.55)) // (64 * MiB) * 64 * MiB
        elif rng.random() < 0.4:
            share = rng.uniform(0.5, 0.85)
            if not deflate_on_oom:
                # Without deflate-on-oom a burst past the target kills the guest: leave room.
                share = max(share, min(1.0, workload.peak + 0.2))
            target = max(256 * MiB, int(memory * share) // (64 * MiB) * 64 * MiB)
            if target >= memory:
                target = None
        specs.append(VMSpec(
            name=name,
            memory=memory,
            deflate_on_oom=deflate_on_oom,
            has_balloon=index not in no_balloon,
            workload=workload,
            initial_target=target,
            stats_interval=rng.choice((0, 2, 2, 5)),
            swap=rng.random() < 0.3,
            uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            named=index not in unnamed,
            restart_after_death=rng.uniform(3, 8),
        ))
    return specs


def _pick(rng: random.Random, count: int, how_many: int, *, avoid: set[int]) -> set[int]:
    candidates = [index for index in range(count) if index not in avoid]
    return set(rng.sample(candidates, min(how_many, len(candidates))))
