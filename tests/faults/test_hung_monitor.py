"""A QEMU whose monitor hangs: it never greets, or stops answering mid-session. Its pane says
so, its polls never pile up, and the keys answer as fast as ever."""

from __future__ import annotations

import asyncio

from balloontui.sim.host import SimulatedHost
from balloontui.sim.vm import VMSpec
from tests.faults.conftest import FAST, operating


def hang_from_the_start(host: SimulatedHost) -> None:
    host.vm("hung-01").inject("hang")


async def test_a_monitor_that_never_greets_is_shown_busy(tmp_path):
    async with operating(tmp_path, [VMSpec("hung-01"), VMSpec("ok-01")],
                         before_start=hang_from_the_start, connected=["ok-01"]) as op:
        shown = await op.until_condition(
            "hung-01", "monitor busy: ", "QEMU accepted the connection but did not greet "
            "within 1 s; another client probably holds this monitor")
        assert shown.startswith("monitor busy: ")
        assert not op.vm("hung-01").commands  # nothing is sent to a monitor that never greeted

        # hung-01 has no numbers to show in other units yet: watch ok-01's change.
        latency = await op.keys_answer("ok-01")
        print(f"\nkey latency while hung-01 never greets: {latency * 1000:.0f} ms")
        await op.shrink_and_see_it_follow("ok-01")

        op.vm("hung-01").clear_fault("hang")  # the other client lets go
        await op.until(lambda: op.condition("hung-01") == "" and "running" in op.title("hung-01"),
                       "hung-01 to be connected once its monitor is free")


async def test_a_monitor_that_stops_answering_is_not_responding_without_a_pile_up(tmp_path):
    async with operating(tmp_path, [VMSpec("hung-01"), VMSpec("ok-01")]) as op:
        hung = op.vm("hung-01")
        loop = asyncio.get_running_loop()
        hung.inject("stop-answering")
        stopped = loop.time()

        shown = await op.until_condition("hung-01", "not responding: ",
                                         "no answer to query-balloon within 1 s")
        assert loop.time() - stopped >= FAST.call_timeout * 0.9, "called hung before the timeout"
        assert shown.startswith("not responding: ")

        # While it hangs: the keys answer at once, and ok-01 is steered as usual.
        watched_from = loop.time()
        latency = await op.keys_answer("hung-01")
        print(f"\nkey latency while hung-01 is polled without answer: {latency * 1000:.0f} ms")
        await op.shrink_and_see_it_follow("ok-01")
        await op.until(lambda: loop.time() - watched_from >= 3.0, "three seconds of hanging")

        sent = [c.time for c in hung.commands if c.time >= watched_from]
        window = loop.time() - watched_from
        # One command waits for its timeout before the next is sent: never more than one
        # outstanding, so no more than one per call timeout.
        assert 1 <= len(sent) <= window / FAST.call_timeout + 1, sent
        gaps = [b - a for a, b in zip(sent, sent[1:])]
        assert all(gap >= FAST.call_timeout * 0.95 for gap in gaps), gaps
        assert op.condition("hung-01").startswith("not responding: ")

        hung.clear_fault("stop-answering")  # it wakes up
        await op.until(lambda: op.condition("hung-01") == "", "hung-01 to answer again")
        await op.shrink_and_see_it_follow("hung-01")
