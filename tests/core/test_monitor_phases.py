"""How the monitor spreads its polls over the interval: in a few bursts, none of them big."""

from __future__ import annotations

from collections import Counter

import pytest

from balloontui.core.addresses import VMAddress
from balloontui.core.monitor import MAX_PHASES, VMS_PER_BURST, Monitor


def bursts(count: int) -> Counter[float]:
    monitor = Monitor([VMAddress(path=f"/run/vms/vm-{i:04}.sock") for i in range(count)])
    return Counter(monitor._phase(key) for key in monitor.sessions)


@pytest.mark.parametrize("count", [1, 10, 100, 1000, 3000])
def test_polls_come_in_few_bursts_of_a_few_dozen_vms(count):
    moments = bursts(count)
    assert len(moments) <= min(MAX_PHASES, max(1, -(-count // VMS_PER_BURST)))
    if count <= MAX_PHASES * VMS_PER_BURST:
        assert max(moments.values()) <= VMS_PER_BURST * 1.5, moments  # evenly, give or take
    assert all(0 <= moment < 1 for moment in moments)


def test_a_next_poll_keeps_its_moment_and_comes_at_least_half_an_interval_on():
    for now in (100.0, 100.49, 100.51, 100.99):
        due = Monitor._next_due(now, 1.0, 0.25)
        assert due - now >= 0.5 and abs((due - 0.25 + 0.5) % 1.0 - 0.5) < 1e-9, (now, due)
