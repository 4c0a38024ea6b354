"""A QEMU whose monitor talks nonsense: that VM shows a protocol error, nothing crashes, the
error is logged, and the other VM is steered as before."""

from __future__ import annotations

import logging

import pytest

from balloontui.core.recognition import NoticeKind
from balloontui.core.sizes import MiB
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
