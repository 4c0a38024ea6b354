"""A QEMU whose monitor talks nonsense: that VM shows a protocol error, nothing crashes, the
error is logged, and the other VM is steered as before."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from balloontui.core.qmp_transport import QMPTransport
from balloontui.core.recognition import NoticeKind
from balloontui.core.sizes import MiB
from balloontui.core.vm_state import Link
from balloontui.sim.vm import VMSpec
from tests.faults.conftest import operating

# What the pane of the VM says, whichever command met the fault first.
BAD_REPLIES = {
    "garbage": "invalid QMP from QEMU: Failed to deserialize QMP message",
    "truncated": "invalid QMP from QEMU: Failed to deserialize QMP message",
    "wrong-types": "is not a size: '536870912'",  # "actual" (or "base-memory") as a string
    "missing-fields": "in the reply {}",  # "no 'actual' in the reply {}"
    "huge-reply": "a message larger than 1048576 bytes",
}


@pytest.mark.parametrize("fault", list(BAD_REPLIES))
async def test_a_monitor_talking_nonsense_is_a_protocol_error_of_that_vm_only(
        tmp_path, caplog, fault):
    caplog.set_level(logging.INFO, logger="balloontui")
    async with operating(tmp_path, [VMSpec("bad-01"), VMSpec("ok-01")]) as op:
        # Its balloon holds memory: losing the monitor to nonsense is no reason to call it dead.
        await op.focus("bad-01")
        await op.press("minus")
        await op.until(lambda: op.session("bad-01").state.actual == op.vm("bad-01").target
                       != 512 * MiB, "bad-01's balloon to inflate")

        op.vm("bad-01").inject(fault)

        shown = await op.until_condition("bad-01", "protocol error: ", BAD_REPLIES[fault])
        assert shown.startswith("protocol error: ")
        assert op.app.is_running
        assert any(r.name.startswith("balloontui") and "bad-01" in r.getMessage()
                   and "protocol error" in r.getMessage() for r in caplog.records), \
            "the protocol error is not in the log"
        assert not [n for n in op.app.notices if n.kind is NoticeKind.DEATH], \
            "a monitor talking nonsense was reported as a dead guest"
        await op.keys_answer("bad-01")
        await op.shrink_and_see_it_follow("ok-01")
        assert op.condition("bad-01").startswith("protocol error: ")


class PollAfterEvents(QMPTransport):
    """QMP with a busy client: a poll of ``bad-01``, about to be sent, waits until the test lets
    it go, while the events that come meanwhile are handled."""

    gate: asyncio.Event | None = None
    waiting: asyncio.Event | None = None

    async def execute(self, command: str, arguments: dict[str, Any] | None = None,
                      *, timeout: float) -> Any:
        gate, waiting = PollAfterEvents.gate, PollAfterEvents.waiting
        if (command == "query-balloon" and gate is not None and waiting is not None
                and str(self.address.path).endswith("/bad-01.sock")):
            waiting.set()
            await gate.wait()
        return await super().execute(command, arguments, timeout=timeout)


async def test_a_bad_event_during_a_poll_is_shown_as_what_it_is(tmp_path):
    async with operating(tmp_path, [VMSpec("bad-01"), VMSpec("ok-01")],
                         transport_factory=PollAfterEvents) as op:
        session = op.session("bad-01")
        PollAfterEvents.gate, PollAfterEvents.waiting = asyncio.Event(), asyncio.Event()
        try:
            await op.until(PollAfterEvents.waiting.is_set, "a poll of bad-01 to wait")
            op.vm("bad-01").inject("wrong-types")
            op.vm("bad-01").set_target(256 * MiB)  # BALLOON_CHANGE {"actual": "5...."}
            await op.until(lambda: session.state.link is Link.PROTOCOL_ERROR,
                           "the bad event to drop the connection")
        finally:
            PollAfterEvents.gate.set()  # the poll goes on, on a connection that is gone
            PollAfterEvents.gate = PollAfterEvents.waiting = None
        polls = len(op.sent("ok-01", "query-balloon"))
        await op.until(lambda: len(op.sent("ok-01", "query-balloon")) >= polls + 3,
                       "a few poll intervals")  # bad-01's poll has failed meanwhile
        said = [n.text for n in op.app.notices if n.vm == "bad-01" and n.kind is NoticeKind.LINK]
        assert said[1].startswith("protocol error: ") and "BALLOON_CHANGE without a valid " \
            "'actual'" in said[1], said
        assert not [t for t in said if t.startswith("disconnected")], \
            f"the dropped connection hid the protocol error: {said}"
        assert op.condition("bad-01").startswith("protocol error: ")
        await op.keys_answer("bad-01")
        await op.shrink_and_see_it_follow("ok-01")
