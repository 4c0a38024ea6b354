"""A real QEMU guest killed (SIGKILL, its socket file left behind) and booted again."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from balloontui.core.addresses import VMAddress
from balloontui.core.session import SessionSettings
from balloontui.core.sizes import MiB
from balloontui.sim.host import SimulatedHost
from balloontui.sim.vm import VMSpec
from tests.faults.conftest import border_text, operating, plain

pytestmark = pytest.mark.qemu

# A guest under TCG answers more slowly than the simulator.
SETTINGS = SessionSettings(poll_interval=0.2, call_timeout=5.0, connect_timeout=5.0,
                           backoff_max=1.0)


async def test_a_real_qemu_killed_and_booted_again_is_shown_disconnected_then_back(
        tmp_path, real_guest):
    socket_path = str(real_guest.qmp_path)

    def addresses(host: SimulatedHost) -> list[VMAddress]:
        return [VMAddress(path=socket_path), VMAddress(path=host.vm("ok-01").socket_path)]

    async with operating(tmp_path, [VMSpec("ok-01")], settings=SETTINGS, addresses=addresses,
                         connected=["ok-01"]) as op:
        session = next(s for s in op.monitor.sessions.values() if s.address.path == socket_path)
        pane = op.app.panes[session.key]

        def condition() -> str:
            return border_text(pane.border_subtitle)

        await op.until(lambda: "running" in border_text(pane.border_title) and condition() == "",
                       "the real guest to be shown connected", timeout=30)
        pane.focus()
        await op.press("minus")
        await op.until(lambda: session.state.target is not None
                       and session.state.actual == session.state.target < 512 * MiB,
                       "the real guest's balloon to inflate", timeout=30)

        await real_guest.kill()

        await op.until(lambda: condition().startswith(("disconnected: ", "unreachable: ")),
                       "the pane to say the guest is gone")
        await op.until(lambda: condition() == "unreachable: connection "
                       "refused (QEMU exited and left its socket file?)",
                       f"the pane to say nobody listens on the socket (it says {condition()!r})")
        texts = [n.text for n in op.app.notices if n.vm == "real-01"]
        assert any(t.startswith("disconnected: ") for t in texts), texts
        await op.keys_answer("ok-01")
        await op.shrink_and_see_it_follow("ok-01")

        await real_guest.restart()  # boots again on the same socket paths

        await op.until(lambda: condition() == "" and "running" in border_text(pane.border_title),
                       "the real guest to be shown connected again", timeout=30)
        assert session.state.actual == 512 * MiB == await real_guest.query_actual()
        await op.until(lambda: "actual 512M" in plain(pane.query_one(".numbers", Static)),
                       "the new QEMU's actual shown")
        texts = [n.text for n in op.app.notices if n.vm == "real-01"]
        assert any(t.startswith("connected again (was ") for t in texts), texts
