"""A host frozen in time for snapshot tests: six VMs in the states an operator meets, set by
hand on sessions that never connect, under a clock that never moves."""

from __future__ import annotations

from balloontui.core.addresses import VMAddress
from balloontui.core.guest_stats import GuestStats, StatRates
from balloontui.core.monitor import Monitor
from balloontui.core.session import BalloonSession
from balloontui.core.sizes import GiB, MiB
from balloontui.core.vm_state import (
    DEFLATE_ON_OOM,
    FREE_PAGE_REPORTING,
    STATS_VQ,
    BalloonFeatures,
    Link,
    TargetSource,
)
from balloontui.ui.app import BalloonApp
from tests.core.manual_clock import ManualClock

NOW = 100_000
WALL = 1_796_064_658.0  # 18:50:58 UTC
SINCE = NOW - 300  # five minutes of history, the plots' default window


def balloon(doom: bool, reporting: bool = False) -> BalloonFeatures:
    negotiated = {STATS_VQ} | ({DEFLATE_ON_OOM} if doom else set()) \
        | ({FREE_PAGE_REPORTING} if reporting else set())
    return BalloonFeatures(present=True, path="/machine/peripheral/balloon0",
                           backend_path="/machine/peripheral/balloon0/virtio-backend",
                           deflate_on_oom=doom, free_page_hint=False,
                           free_page_reporting=reporting, negotiated=frozenset(negotiated))


def stats(total: int, available: int, free: int, caches: int, age: int = 2) -> GuestStats:
    return GuestStats({"stat-total-memory": total, "stat-available-memory": available,
                       "stat-free-memory": free, "stat-disk-caches": caches,
                       "stat-swap-in": 0, "stat-swap-out": 0, "stat-major-faults": 12,
                       "stat-minor-faults": 40_000}, int(WALL) - age)


def connected(session: BalloonSession, memory: int, run_state: str = "running") -> None:
    state = session.state
    state.link, state.run_state, state.memory = Link.CONNECTED, run_state, memory


def web_01(session: BalloonSession) -> None:
    """Ballooned from 4 GiB to 3 GiB two minutes ago, at its target, stats every 2 s."""
    connected(session, 4 * GiB)
    state = session.state
    state.features = balloon(doom=True, reporting=True)
    state.stats_interval = 2
    state.target, state.target_source, state.actual = 3 * GiB, TargetSource.SET_HERE, 3 * GiB
    state.stats = stats(3 * GiB - 300 * MiB, 1900 * MiB, 1200 * MiB, 700 * MiB)
    state.rates = StatRates(0.0, 0.0, 0.0, 23.0)
    for t in range(SINCE, NOW + 1, 2):
        shrunk = t >= NOW - 130
        actual = 3 * GiB if t >= NOW - 120 else (4 * GiB if not shrunk else 3584 * MiB)
        session.history.record(t, actual, 3 * GiB if shrunk else None,
                               1900 * MiB + (t % 60) * MiB, 1200 * MiB, 700 * MiB)
    session.history.mark(NOW - 130, "target set", "target set to 3 GiB")


def db_01(session: BalloonSession) -> None:
    """Squeezed to 1 GiB, then the guest took 256 MiB back by deflate-on-oom a minute ago."""
    connected(session, 2 * GiB)
    state = session.state
    state.features = balloon(doom=True)
    state.stats_interval = 5
    state.target, state.target_source = GiB, TargetSource.REMEMBERED
    state.actual = GiB + 256 * MiB
    state.deflated_by_guest = 256 * MiB
    state.stats = stats(2 * GiB - 170 * MiB, 90 * MiB, 40 * MiB, 60 * MiB, age=4)
    state.rates = StatRates(4 * MiB, 9 * MiB, 350.0, 9000.0)
    for t in range(SINCE, NOW + 1, 2):
        actual = GiB if t < NOW - 70 else min(GiB + 256 * MiB, GiB + int(t - NOW + 70) * 26 * MiB)
        session.history.record(t, actual, GiB, 300 * MiB - max(0, t - (NOW - 90)) * 2 * MiB,
                               60 * MiB, 80 * MiB)
    session.history.mark(NOW - 70, "deflate-on-oom", "guest deflating its balloon")


def batch_01(session: BalloonSession) -> None:
    """Asked for 512 MiB; stuck at 700 MiB for a while: the guest cannot free more."""
    connected(session, GiB)
    state = session.state
    state.features = balloon(doom=False)
    state.stats_interval = 1
    state.target, state.target_source, state.actual = 512 * MiB, TargetSource.SET_HERE, 700 * MiB
    state.stall = ("the balloon stopped at 700 MiB, 188 MiB short of 512 MiB: the guest "
                   "cannot free more memory?")
    state.stats = stats(GiB - 380 * MiB, 30 * MiB, 12 * MiB, 20 * MiB, age=1)
    for t in range(SINCE, NOW + 1, 2):
        actual = max(700 * MiB, GiB - max(0, int(t - (NOW - 200))) * 20 * MiB)
        session.history.record(t, actual, 512 * MiB if t >= NOW - 200 else None,
                               30 * MiB, 12 * MiB, 20 * MiB)
    session.history.mark(NOW - 170, "stall", "the balloon stopped")


def plain_01(session: BalloonSession) -> None:
    """A VM started without a balloon device."""
    connected(session, 512 * MiB)
    session.state.features = BalloonFeatures(present=False)


def gone_01(session: BalloonSession) -> None:
    """Its QMP socket is gone."""
    session.state.link = Link.UNREACHABLE
    session.state.link_message = ("cannot connect to /run/vms/gone-01.sock: "
                                  "No such file or directory")


def paused_01(session: BalloonSession) -> None:
    """Paused on its way to a smaller target: the balloon waits."""
    connected(session, GiB, run_state="paused")
    state = session.state
    state.features = balloon(doom=True)
    state.stats_interval = 0
    state.target, state.target_source, state.actual = 768 * MiB, TargetSource.SET_HERE, 900 * MiB
    for t in range(SINCE, NOW + 1, 2):
        actual = max(900 * MiB, GiB - max(0, int(t - (NOW - 40))) * 30 * MiB)
        session.history.record(t, actual, 768 * MiB if t >= NOW - 40 else None,
                               None, None, None)


VMS = {"web-01": web_01, "db-01": db_01, "batch-01": batch_01, "plain-01": plain_01,
       "gone-01": gone_01, "paused-01": paused_01}


def frozen_app(**options: object) -> BalloonApp:
    """balloontui on the frozen host: the monitor never starts, the clock never moves."""
    clock = ManualClock(start=float(NOW), wall_start=WALL)
    monitor = Monitor([VMAddress(path=f"/run/vms/{name}.sock", name=name) for name in VMS],
                      clock=clock)
    for session in monitor.sessions.values():
        VMS[session.state.name](session)
    return BalloonApp(monitor, start_monitor=False, clock=clock, **options)  # type: ignore[arg-type]
