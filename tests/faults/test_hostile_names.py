"""VM names full of markup, ANSI escapes and control characters are shown as they are: never
interpreted as markup or styles, never sent raw to the terminal, in every place a name shows."""

from __future__ import annotations

from textual.widgets import DataTable

from balloontui.core.addresses import VMAddress, parse_address
from balloontui.core.sizes import MiB
from balloontui.sim.host import SimulatedHost
from balloontui.sim.vm import VMSpec
from balloontui.ui.event_log_screen import EventLogScreen
from balloontui.ui.overview_screen import OverviewScreen
from balloontui.ui.target_dialog import TargetDialog
from tests.faults.conftest import Operator, operating, plain, screen_lines, styles_under

CLI_NAME = "[b]cli[/b]\x1b[31mred\x07"
"""Given on the command line (``NAME=ADDRESS``)."""
CLI_SHOWN = r"[b]cli[/b]\x1b[31mred\x07"
QEMU_NAME = "[red]qemu[b]\x1b[1m\x01"
"""QEMU's own ``-name``, from ``query-name``. The simulator names the socket file after it, so
it holds no ``/`` (hence no closing tag); the command-line name has one."""
QEMU_SHOWN = r"[red]qemu[b]\x1b[1m\x01"
RAW = ("\x1b", "\x07", "\x01")


def addresses(host: SimulatedHost) -> list[VMAddress]:
    return [*parse_address(f"{CLI_NAME}={host.vm('cli-01').socket_path}"),
            # Not parse_address: a path with brackets is taken for a glob (unix:PATH too).
            VMAddress(path=host.vm(QEMU_NAME).socket_path),
            *parse_address(host.vm("ok-01").socket_path)]


def assert_shown_literally(op: Operator, shown: str, where: str, *, room: int | None = None,
                           within: str | None = None) -> None:
    """``shown`` (or its first ``room`` characters, where a column cuts it) is on screen, all in
    one style (none came from the name), inside ``within`` if given; and no control character
    reaches the terminal."""
    needle = shown[:room] if room else shown
    screen = "\n".join(screen_lines(op.app))
    for raw in RAW:
        assert raw not in screen, f"{raw!r} sent raw to the terminal in the {where}"
    if within is not None:
        assert within in screen, f"{within!r} is not shown in the {where}:\n{screen}"
    places = styles_under(op.app, needle)
    assert places, f"{needle!r} is not shown in the {where}:\n{screen}"
    for styles in places:
        assert len(styles) == 1, f"the name is drawn in {len(styles)} styles in the {where}: " \
                                 f"{styles}"


async def test_names_with_markup_and_escapes_are_shown_literally_everywhere(tmp_path):
    specs = [VMSpec("cli-01"), VMSpec(QEMU_NAME), VMSpec("ok-01")]
    async with operating(tmp_path, specs, addresses=addresses) as op:
        cli, qemu = op.session("cli-01"), op.session(QEMU_NAME)
        assert cli.state.name == CLI_NAME and qemu.state.name == QEMU_NAME

        # The panes' titles (read from the screen: the title's markup cannot carry them).
        await op.until(lambda: "running" in op.title("cli-01") + op.title(QEMU_NAME),
                       "the titles to show the VMs running")
        assert_shown_literally(op, CLI_SHOWN, "pane titles", within=f"{CLI_SHOWN}  running")
        assert_shown_literally(op, QEMU_SHOWN, "pane titles", within=f"{QEMU_SHOWN}  running")

        # A toast: another client changes the target of each.
        for name in ("cli-01", QEMU_NAME):
            vm = op.vm(name)
            await op.focus(name)
            await op.press("minus")
            await op.until(lambda: op.session(name).state.actual == vm.target < 512 * MiB,
                           f"{name}'s balloon to reach its target")
            vm.set_target(256 * MiB)
            await op.until_condition(name, "changed by another client")
        toasts = [plain(toast.render()) for toast in op.app.screen.query("Toast")]
        for shown in (CLI_SHOWN, QEMU_SHOWN):
            assert any(t.startswith(f"{shown}: another client changed") for t in toasts), toasts
        assert not [t for t in toasts if any(raw in t for raw in RAW)], toasts

        # The target dialog.
        await op.focus("cli-01")
        await op.press("t")
        assert isinstance(op.app.screen, TargetDialog)
        assert_shown_literally(op, CLI_SHOWN, "target dialog", within=f"Target for {CLI_SHOWN}")
        await op.press("escape")
        await op.focus(QEMU_NAME)
        await op.press("t")
        assert_shown_literally(op, QEMU_SHOWN, "target dialog",
                               within=f"Target for {QEMU_SHOWN}")
        await op.press("escape")

        # The overview table: its VM column is 18 wide.
        await op.press("o")
        assert isinstance(op.app.screen, OverviewScreen)
        table = op.app.screen.query_one(DataTable)
        for session, shown in ((cli, CLI_SHOWN), (qemu, QEMU_SHOWN)):
            cell = table.get_row(session.key)[0]
            assert plain(cell) == shown and not getattr(cell, "spans", None), cell
            assert_shown_literally(op, shown, "overview", room=16)
        await op.press("escape")

        # The event log.
        await op.press("e")
        assert isinstance(op.app.screen, EventLogScreen)
        assert_shown_literally(op, CLI_SHOWN, "event log")
        assert_shown_literally(op, QEMU_SHOWN, "event log")
        await op.press("escape")

        await op.keys_answer("cli-01")
        await op.shrink_and_see_it_follow("ok-01")
