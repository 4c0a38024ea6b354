"""Slow replies: the polls of that VM wait for each other, and an old reply never overrides the
newer news the events brought meanwhile."""

from __future__ import annotations

import asyncio
from typing import Any

from balloontui.core.qmp_transport import QMPTransport
from balloontui.core.recognition import NoticeKind
from balloontui.core.sizes import MiB
from balloontui.sim.vm import VMSpec
from tests.faults.conftest import FAST, operating

DELAY = 0.4
"""Seconds the slow QEMU takes over every reply: slow, but within the 1 s call timeout."""


async def test_a_slow_qemu_is_polled_one_command_at_a_time(tmp_path):
    async with operating(tmp_path, [VMSpec("slow-01"), VMSpec("ok-01")]) as op:
        slow = op.vm("slow-01")
        slow.inject("slow", DELAY * 1000)
        start = asyncio.get_running_loop().time()

        await op.keys_answer("slow-01")
        await op.shrink_and_see_it_follow("ok-01")
        await op.until(lambda: len([c for c in slow.commands if c.time > start]) >= 6,
                       "six commands to reach slow-01", timeout=10)

        arrivals = [c.time for c in slow.commands if c.time > start]
        gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
        # The simulated QEMU reads a command only once it has answered the one before (DELAY
        # later), as QEMU does; a poll sent only after the previous answer came in (and the
        # poll interval passed) arrives later still: the monitor keeps each VM at its own phase
        # of the interval, so the next poll comes at least half an interval after the answer.
        # A gap of just DELAY means a command had been waiting in the socket: sent while the
        # previous one was still unanswered.
        assert min(gaps) >= DELAY + FAST.poll_interval * 0.4, gaps
        assert op.condition("slow-01") == "", "slow but within the timeout: no trouble"
        assert op.session("slow-01").state.actual == slow.actual


class HeldPolls(QMPTransport):
    """QMP with a busy client: a ``query-balloon`` reply, once read, waits until the test lets
    it through (as it would behind a long repaint), while events go on being handled."""

    vm = "web-01"
    gate: asyncio.Event | None = None
    waiting: asyncio.Event | None = None

    async def execute(self, command: str, arguments: dict[str, Any] | None = None,
                      *, timeout: float) -> Any:
        reply = await super().execute(command, arguments, timeout=timeout)
        gate, waiting = HeldPolls.gate, HeldPolls.waiting
        if (command == "query-balloon" and gate is not None and waiting is not None
                and str(self.address.path).endswith(f"/{HeldPolls.vm}.sock")):
            waiting.set()
            await gate.wait()
        return reply


async def test_a_poll_reply_older_than_the_events_is_not_taken_for_the_guest(tmp_path):
    async with operating(tmp_path, [VMSpec("web-01"), VMSpec("ok-01")],
                         transport_factory=HeldPolls) as op:
        session = op.session("web-01")
        HeldPolls.gate, HeldPolls.waiting = asyncio.Event(), asyncio.Event()
        try:
            await op.until(HeldPolls.waiting.is_set, "a poll of web-01 to be held")
            await op.focus("web-01")
            await op.press("minus")  # the balloon inflates; its events come in at once
            vm = op.vm("web-01")
            await op.until(lambda: vm.target < 512 * MiB, "- to lower web-01's target")
            target = vm.target
            await op.until(lambda: session.state.actual == vm.actual == target,
                           "the events to bring web-01 to its new target")
        finally:
            HeldPolls.gate.set()  # the poll's reply, 512 MiB from before the command, comes in
            HeldPolls.gate = HeldPolls.waiting = None
        polls = len(op.sent("web-01", "query-balloon"))
        await op.until(lambda: len(op.sent("web-01", "query-balloon")) >= polls + 2,
                       "two more polls of web-01")
        kinds = [n.kind for n in op.app.notices if n.vm == "web-01"]
        assert NoticeKind.EPISODE_START not in kinds, [n.text for n in op.app.notices]
        assert NoticeKind.CHANGED_ELSEWHERE not in kinds
        assert session.state.actual == target and session.state.target == target
        assert op.condition("web-01") == ""
