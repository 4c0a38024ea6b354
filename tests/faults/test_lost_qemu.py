"""A QEMU killed under balloontui, and a new one later on the same socket."""

from __future__ import annotations

import asyncio

from balloontui.core.recognition import NoticeKind
from balloontui.core.session import SessionSettings
from balloontui.core.sizes import MiB
from balloontui.core.vm_state import Link
from balloontui.sim.vm import VMSpec
from tests.faults.conftest import FAST, operating


async def test_a_killed_qemu_is_shown_disconnected_then_back_and_resynced(tmp_path):
    # Its guest boots quickly, so that the new QEMU's balloon driver is soon there to steer.
    specs = [VMSpec("web-01", boot_seconds=0.5), VMSpec("ok-01")]
    async with operating(tmp_path, specs) as op:
        web = op.vm("web-01")
        await op.focus("web-01")
        await op.press("minus")
        await op.until(lambda: op.session("web-01").state.actual == web.target < 512 * MiB,
                       "web-01's balloon to inflate")
        assert "actual 461M" in op.numbers("web-01")
        said: list[str] = []

        def heard(*phrases: str) -> bool:
            shown = op.condition("web-01")
            if not said or said[-1] != shown:
                said.append(shown)
            return all(p in shown for p in phrases)

        web.inject("kill")  # end of stream; the socket file goes with the process

        await op.until(lambda: heard("unreachable: no socket at ", web.socket_path,
                                     "(is the VM running?)"), "web-01 to be unreachable")
        # First the stream ended: the pane says so until the next attempt to connect, a poll
        # interval later (it may be gone before a repaint), and the event log keeps it.
        assert said[1].startswith(("disconnected: ", "unreachable: ")), said
        texts = [n.text for n in op.app.notices if n.vm == "web-01"]
        assert [t for t in texts if t.startswith("disconnected: ")][:1] == \
            [t for t in texts if t.startswith(("disconnected: ", "unreachable: "))][:1], texts
        await op.keys_answer("web-01")
        await op.shrink_and_see_it_follow("ok-01")

        await web.restart(after=0)  # a new QEMU on the same path: its balloon starts empty

        await op.until(lambda: heard() and op.condition("web-01") == ""
                       and "running" in op.title("web-01"), "web-01 to be connected again")
        await op.until(lambda: "mem 512M  target –  actual 512M" in op.numbers("web-01"),
                       "web-01's numbers read again from the new QEMU")
        assert op.session("web-01").state.actual == web.actual == 512 * MiB
        texts = [n.text for n in op.app.notices if n.vm == "web-01"]
        assert any(t.startswith("connected again (was ") for t in texts), texts
        assert NoticeKind.QEMU_RESTARTED in [n.kind for n in op.app.notices]
        await op.keys_answer("web-01")
        await op.shrink_and_see_it_follow("web-01")  # and it can be steered again


async def test_a_qemu_back_is_shown_connected_at_once_not_at_the_next_poll(tmp_path):
    slow_polls = SessionSettings(**{**FAST.__dict__, "poll_interval": 3.0})
    async with operating(tmp_path, [VMSpec("web-01"), VMSpec("ok-01")],
                         settings=slow_polls) as op:
        session, loop = op.session("web-01"), asyncio.get_running_loop()
        told: list[tuple[float, Link]] = []
        op.monitor.subscribe(lambda s: told.append((loop.time(), s.state.link))
                             if s is session else None)
        await op.vm("web-01").restart(after=0.3)
        await op.until(lambda: session.state.link.is_trouble, "web-01 to be lost")
        await op.until(lambda: session.state.link is Link.CONNECTED, "web-01 to be back")
        back = loop.time()

        assert any(link is Link.CONNECTED and at <= back for at, link in told), \
            "the reconnection is not told to the UI until the next poll, 3 s later"
        await op.until(lambda: op.condition("web-01") == "", "the pane to show it back", 0.5)
