"""The real ``balloontui`` in a real terminal, steering two real QEMU 7.2 guests.

An operator's session, keys typed into tmux and the screen read back as text: shrink web-01 by a
step with ``-``, give db-01 200 MiB with ``t``, squeeze web-01 (deflate-on-oom on) to 160 MiB
and fill its memory, see the episode in its pane and in the event log, quit with ``q``.
balloontui holds each guest's first QMP socket; what reached QEMU is checked on the second.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys

import pytest

from .guest import MiB
from .tmux_terminal import TmuxTerminal, border_colours, box

pytestmark = pytest.mark.qemu

STEP_MIB = 64
PRESSURE_MIB = 150  # past the ~90 MiB a 512 MiB guest has free at a 160 MiB balloon


def size(mib: int) -> str:
    """A size as a pane shows it, compact (``448M``) or not (``448 MiB``)."""
    return rf"{mib}(?:M| MiB)\b"


def shows(title: str, pattern: str):
    """A screen predicate: the box titled ``title`` matches the regex ``pattern``."""
    def predicate(screen: str) -> bool:
        return re.search(pattern, box(screen, title)) is not None
    predicate.__name__ = f"{title}'s pane showing /{pattern}/"
    return predicate


def balloon_line(mib: int) -> str:
    return rf"target {size(mib)}\*?\s+actual {size(mib)}"


def focus_on(title: str, focus_colour: str):
    """A styled-screen predicate: the box titled ``title`` has the focused border colour."""
    def predicate(styled: str) -> bool:
        return border_colours(styled).get(title) == focus_colour
    predicate.__name__ = f"the focus (border {focus_colour}) on {title}"
    return predicate


async def quit_and_wait(terminal: TmuxTerminal, pid: int, timeout: float = 20.0) -> int:
    """Press q and return balloontui's exit status; if it hangs, fail with where it hangs."""
    await terminal.type("q")
    try:
        return await terminal.wait_exit(timeout=timeout)
    except AssertionError:
        os.kill(pid, signal.SIGABRT)  # faulthandler prints every thread's stack to the pane
        await terminal.wait_exit(timeout=10)
        raise AssertionError(f"balloontui did not exit {timeout:.0f} s after q; its threads "
                             f"then:\n{await terminal.history()}") from None


@pytest.fixture
async def terminal(real_guest, tmp_path):
    """A 120×40 tmux terminal, killed at teardown whatever happened (before the guests stop)."""
    term = TmuxTerminal(tmp_path / "tmux")
    try:
        yield term
    finally:
        await term.close()
        print(f"\n=== last screen of balloontui:\n{term.last_screen}")


async def test_steer_two_guests_from_the_keyboard_and_see_a_deflate_on_oom_episode(
        real_guest, terminal, tmp_path):
    web, db = await asyncio.gather(real_guest(name="web-01", deflate_on_oom=True),
                                   real_guest(name="db-01"))
    await terminal.start(
        [sys.executable, "-m", "balloontui", str(web.qmp_path), str(db.qmp_path),
         "--step", f"{STEP_MIB}M"],
        env={"XDG_STATE_HOME": str(tmp_path / "state"),
             "XDG_CONFIG_HOME": str(tmp_path / "config"), "TZ": "UTC",
             "PYTHONFAULTHANDLER": "1"},  # SIGABRT dumps every thread: see quit_and_wait
    )
    # Both connected, features negotiated: web-01 can deflate on OOM, db-01 cannot.
    await terminal.wait_for(shows("web-01", rf"running\s+DoOM ✓.*\n(?s:.*)actual {size(512)}"),
                            timeout=30)
    await terminal.wait_for(shows("db-01", rf"running\s+DoOM ✗.*\n(?s:.*)actual {size(512)}"),
                            timeout=30)

    # web-01 has the focus (the first pane): one step down.
    await terminal.type("-")
    assert await web.wait_for_actual((512 - STEP_MIB) * MiB, timeout=30) == 448 * MiB
    await terminal.wait_for(shows("web-01", balloon_line(448)))
    assert await db.query_actual() == 512 * MiB  # only the focused VM moved
    # The focus shows only as a border colour; learn it here (Textual in a detached tmux
    # shows none until the first key) and look for it before each key aimed at a pane.
    styled = await terminal.wait_for(
        lambda s: len(set(border_colours(s).values())) == 2, styled=True,
        what="the focused pane's border in its own colour", timeout=10)
    focus_colour = border_colours(styled)["web-01"]

    # The next pane, db-01: type a target.
    await terminal.press("Right")
    await terminal.wait_for(focus_on("db-01", focus_colour), styled=True, timeout=10)
    await terminal.type("t")
    await terminal.wait_for("Target for db-01")
    await terminal.type("200M")
    await terminal.wait_for(re.compile(r"→ 200 MiB.*enter to set"))
    await terminal.press("Enter")
    assert await db.wait_for_actual(200 * MiB, timeout=60) == 200 * MiB
    await terminal.wait_for(shows("db-01", balloon_line(200)))
    assert await web.query_actual() == 448 * MiB

    # Back to web-01: squeeze it to 160 MiB, then make the guest need more than it has.
    await terminal.press("Left")
    await terminal.wait_for(focus_on("web-01", focus_colour), styled=True, timeout=10)
    await terminal.type("t")
    await terminal.wait_for("Target for web-01")
    await terminal.type("160M")
    await terminal.wait_for(re.compile(r"→ 160 MiB.*enter to set"))
    await terminal.press("Enter")
    await web.wait_for_actual(160 * MiB, timeout=60)
    await terminal.wait_for(shows("web-01", balloon_line(160)))

    filling = asyncio.create_task(web.console.run(
        f"dd if=/dev/zero of=/fill bs=1M count={PRESSURE_MIB} 2>&1", timeout=120))
    try:
        # While the guest takes memory back (and for 5 s after), the pane says so...
        await terminal.wait_for(
            shows("web-01", r"\n.[─━═] deflate-on-oom: the guest is taking memory back"),
            timeout=60)
    except BaseException:
        filling.cancel()
        raise
    out = await filling
    assert f"{PRESSURE_MIB}+0 records out" in out
    # ...then how much it took back, as QEMU says: actual above the 160 MiB target.
    screen = await terminal.wait_for(
        shows("web-01", r"\n.[─━═] the guest took back [\d.]+ MiB \(deflate-on-oom\)"),
        timeout=30)
    taken = float(re.search(r"took back ([\d.]+) MiB", box(screen, "web-01")).group(1))
    actual = await web.query_actual()
    assert taken == pytest.approx((actual - 160 * MiB) / MiB, abs=1) and taken > 20
    assert re.search(rf"target {size(160)}\s+actual {size(round(actual / MiB))}",
                     box(screen, "web-01"))
    assert web.running

    # The event log tells the whole episode.
    await terminal.type("e")
    log = await terminal.wait_for(re.compile(r"deflate-on-oom over .*\s+survived"), timeout=15)
    assert re.search(r"web-01 +deflate-on-oom +guest deflating its balloon under memory "
                     r"pressure", log)
    assert re.search(r"web-01 +deflate-on-oom over +guest took back [\d.]+ MiB", log)
    assert "db-01" in log and "death" not in log
    await terminal.type("e")
    await terminal.wait_for(shows("db-01", balloon_line(200)))

    # q quits cleanly: exit status 0, the process is gone, the guests live on.
    pid = await terminal.program_pid()
    assert await quit_and_wait(terminal, pid) == 0
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    await terminal.wait_closed()
    assert "Traceback" not in await terminal.history()
    assert web.running and db.running
    assert await db.query_actual() == 200 * MiB
