"""Looking around: filter, zoom, overview, event log, help, units, freeze, moving between panes,
quitting."""

from __future__ import annotations

import gc
import re

from textual.widgets import DataTable, Input, RichLog
from textual.widgets._footer import FooterKey

from balloontui.core.sizes import GiB, MiB
from balloontui.sim.vm import VMSpec
from balloontui.ui.app import BalloonApp
from balloontui.ui.balloon_plot import BalloonPlot
from balloontui.ui.event_log_screen import EventLogScreen
from balloontui.ui.help_screen import HelpScreen
from balloontui.ui.overview_screen import OverviewScreen
from tests.ui.conftest import operating, plain

FOUR = [VMSpec("web-01", memory=2 * GiB), VMSpec("web-02", memory=GiB),
        VMSpec("db-01", memory=GiB, deflate_on_oom=False), VMSpec("batch-01")]


def shown(op) -> list[str]:
    """The VMs with a pane on the page, in page order (only those panes exist)."""
    names = {s.key: s.state.name for s in op.monitor.sessions.values()}
    return [names[key] for key in op.app.panes]


async def focused_on(op, name: str) -> None:
    await op.until(lambda: op.app.focused is not None and op.app.focused is op.app.panes.get(
        op.session(name).key), f"{name}'s pane to have the focus")


async def test_filter_by_name(tmp_path):
    async with operating(tmp_path, FOUR) as op:
        await op.press("slash")
        box = op.app.query_one("#filter", Input)
        assert box.display and op.app.focused is box
        await op.type("web")
        assert shown(op) == ["web-01", "web-02"]
        await op.type("-02")
        assert shown(op) == ["web-02"]
        await op.press("enter")  # back to the panes, the filter stays
        await focused_on(op, "web-02")
        assert box.display and shown(op) == ["web-02"]


async def test_filter_by_condition_words(tmp_path):
    async with operating(tmp_path, FOUR) as op:
        op.vm("batch-01").pause()
        await op.until(lambda: op.session("batch-01").state.paused, "batch-01 to be paused")
        await op.press("slash")
        await op.type("paused")
        assert shown(op) == ["batch-01"]
        await op.press(*["backspace"] * len("paused"))
        await op.type("doom")  # deflate-on-oom negotiated: all but db-01
        assert shown(op) == ["web-01", "web-02", "batch-01"]
        await op.type(" web")  # every word must match
        assert shown(op) == ["web-01", "web-02"]
        await op.press(*["backspace"] * len("doom web"))
        assert shown(op) == list(op.host.vms)
        await op.press("enter")  # an empty filter hides its box again
        assert not op.app.query_one("#filter", Input).display


async def test_enter_zooms_the_focused_vm_and_enter_again_goes_back(tmp_path):
    async with operating(tmp_path, FOUR) as op:
        pane = await op.focus("db-01")
        normal_height = pane.region.height
        await op.press("enter")
        assert shown(op) == ["db-01"]
        await focused_on(op, "db-01")
        zoomed = op.pane("db-01")  # a pane of its own, as large as the page
        grid = op.app.grid
        await op.until(lambda: zoomed.region.height == grid.region.height > normal_height,
                       "the zoom")
        await op.until(lambda: not zoomed.plot_stale, "the zoomed plot to be drawn")
        assert zoomed.query_one(BalloonPlot).size.height > 2 * 4
        await op.press("enter")
        assert shown(op) == list(op.host.vms)
        await focused_on(op, "db-01")
        assert op.pane("db-01").region.height == normal_height


async def test_zoom_after_a_filter_shows_the_zoomed_vm_alone(tmp_path):
    async with operating(tmp_path, FOUR) as op:
        await op.press("slash")
        await op.type("web")
        await op.press("enter")  # web-01 and web-02 remain, web-01 focused
        await op.press("enter")
        assert shown(op) == ["web-01"]
        await op.press("enter")
        assert shown(op) == ["web-01", "web-02"]  # the filter still holds


async def test_overview_lists_every_vm_and_sorts_by_the_chosen_column(tmp_path):
    async with operating(tmp_path, FOUR) as op:
        await op.press("o")
        assert isinstance(op.app.screen, OverviewScreen)
        table = op.app.screen.query_one(DataTable)

        def first_column() -> list[str]:
            return [plain(table.get_row_at(i)[0]) for i in range(table.row_count)]

        def column(label: str) -> list[str]:
            index = list(table.columns).index(label)
            return [plain(table.get_row_at(i)[index]) for i in range(table.row_count)]

        assert first_column() == ["batch-01", "db-01", "web-01", "web-02"]
        assert op.app.screen.sub_title == "4 VMs"
        assert column("memory") == ["512 MiB", "1 GiB", "2 GiB", "1 GiB"]
        assert column("DoOM") == ["✓", "✗", "✓", "✓"]
        await op.press("greater_than_sign", "greater_than_sign", "greater_than_sign")
        assert plain(table.columns["memory"].label) == "memory ▲"
        assert column("memory") == ["512 MiB", "1 GiB", "1 GiB", "2 GiB"]
        await op.press("r")
        assert plain(table.columns["memory"].label) == "memory ▼"
        assert column("memory") == ["2 GiB", "1 GiB", "1 GiB", "512 MiB"]
        await op.press("less_than_sign")  # back to DoOM, still reversed
        assert plain(table.columns["DoOM"].label) == "DoOM ▼"
        assert column("DoOM") == ["✗", "✓", "✓", "✓"]
        await op.press("escape")
        assert not isinstance(op.app.screen, OverviewScreen)


async def test_overview_rows_follow_the_vms(tmp_path):
    async with operating(tmp_path, [VMSpec("web-01", memory=GiB)]) as op:
        await op.press("o")
        table = op.app.screen.query_one(DataTable)
        actual = list(table.columns).index("actual")
        assert plain(table.get_row_at(0)[actual]) == "1 GiB"
        vm = op.vm("web-01")  # another client shrinks it while the overview is open
        vm.device.set_target(512 * MiB)
        vm.target_changed()
        await op.until(lambda: plain(table.get_row_at(0)[actual]) == "512 MiB",
                       "the overview to show the new actual")


async def test_enter_in_the_overview_opens_the_vm_zoomed(tmp_path):
    async with operating(tmp_path, FOUR) as op:
        await op.press("o")
        await op.press("down", "enter")  # the second row: db-01
        assert not isinstance(op.app.screen, OverviewScreen)
        await focused_on(op, "db-01")
        assert shown(op) == ["db-01"]


async def test_enter_in_the_overview_while_zoomed_opens_the_chosen_vm_zoomed(tmp_path):
    async with operating(tmp_path, FOUR) as op:
        await op.focus("web-01")
        await op.press("enter", "o")
        await op.press("down", "enter")  # db-01
        await focused_on(op, "db-01")
        assert shown(op) == ["db-01"]


async def test_event_log_shows_recognised_notices_with_their_times(tmp_path):
    async with operating(tmp_path, [VMSpec("web-01", memory=GiB)], step="512M") as op:
        await op.focus("web-01")
        await op.press("minus")
        await op.until(lambda: any(n.kind.value == "target reached" for n in op.app.notices),
                       "the target to be reached")
        await op.press("e")
        assert isinstance(op.app.screen, EventLogScreen)
        log = op.app.screen.query_one(RichLog)
        stamp = r"\d\d:\d\d:\d\d"
        lines = [strip.text.rstrip() for strip in log.lines]
        assert any(re.fullmatch(rf"{stamp}  web-01 +link +connected", line)
                   for line in lines), lines
        assert any(re.fullmatch(rf"{stamp}  web-01 +target set +target set to 512 MiB", line)
                   for line in lines), lines
        assert any(re.fullmatch(rf"{stamp}  web-01 +target reached +reached 512 MiB in .*",
                                line) for line in lines), lines
        # Another client moves the balloon while the log is open: it shows up at once.
        vm = op.vm("web-01")
        vm.device.set_target(256 * MiB)
        vm.target_changed()
        await op.until(lambda: any("changed elsewhere" in s.text for s in log.lines),
                       "the log to show the change made elsewhere")
        line = next(s.text for s in log.lines if "changed elsewhere" in s.text)
        notice = next(n for n in op.app.notices if n.kind.value == "changed elsewhere")
        assert line.startswith(f"{_hms(notice.at)}  web-01")
        assert "another client changed the target" in line
        await op.press("escape")
        assert not isinstance(op.app.screen, EventLogScreen)


def _hms(wall: float) -> str:
    import time
    return time.strftime("%H:%M:%S", time.localtime(wall))


async def test_help_lists_every_key_and_closes(tmp_path):
    async with operating(tmp_path, [VMSpec("web-01")]) as op:
        await op.press("question_mark")
        assert isinstance(op.app.screen, HelpScreen)
        text = plain(op.app.screen.query_one("Static"))
        for binding in BalloonApp.BINDINGS:
            assert f" {binding.description}  ({binding.id})" in text, binding.id
        assert "deflate-on-oom negotiated" in text
        await op.press("escape")
        assert not isinstance(op.app.screen, HelpScreen)


async def test_u_shows_sizes_in_balloon_pages_and_back(tmp_path):
    async with operating(tmp_path, [VMSpec("web-01", memory=GiB)]) as op:
        pane = await op.focus("web-01")
        numbers = pane.query_one(".numbers")
        assert plain(numbers).startswith("mem 1G  ")
        await op.press("u")
        await op.until(lambda: plain(numbers).startswith("mem 262144p  "), "sizes in pages")
        assert "actual 262144p" in plain(numbers)
        await op.until(lambda: not pane.plot_stale, "the plot in pages")
        assert "p" in pane.query_one(BalloonPlot).plt.build()
        await op.press("u")
        await op.until(lambda: plain(numbers).startswith("mem 1G  "), "sizes in bytes again")


async def test_p_freezes_the_plots_until_pressed_again(tmp_path):
    async with operating(tmp_path, [VMSpec("web-01", memory=GiB)], step="512M") as op:
        pane = await op.focus("web-01")
        plot = pane.query_one(BalloonPlot)
        await op.until(lambda: not pane.plot_stale, "a first plot")
        await op.press("p")
        assert op.app.frozen and op.app.has_class("-frozen")
        drawn = plot.plt.build()
        await op.press("minus")
        await op.until(lambda: op.session("web-01").state.actual == 512 * MiB,
                       "the balloon to inflate")
        await op.press("right_square_bracket")  # a longer window replots at once, unless frozen
        assert pane.plot_stale
        assert plot.plt.build() == drawn
        await op.press("p")
        assert not op.app.frozen
        await op.until(lambda: plot.plt.build() != drawn, "the plot to be rebuilt")


async def test_arrows_move_between_panes_of_the_grid(tmp_path):
    async with operating(tmp_path, FOUR) as op:  # 120 columns: two panes a row
        names = list(op.host.vms)
        await op.focus(names[0])

        def focused() -> str:
            return op.app.focused.session.state.name

        await op.press("right")
        assert focused() == names[1]
        await op.press("down")
        assert focused() == names[3]
        await op.press("left")
        assert focused() == names[2]
        await op.press("up")
        assert focused() == names[0]
        await op.press("up", "left")  # the edges hold
        assert focused() == names[0]
        await op.press("tab")
        assert focused() == names[1]
        await op.press("shift+tab")
        assert focused() == names[0]


async def test_q_puts_back_the_stats_intervals_balloontui_changed(tmp_path):
    specs = [VMSpec("web-01"), VMSpec("db-01", stats_interval=5)]
    async with operating(tmp_path, specs) as op:
        await op.focus("web-01")
        await op.press("i")
        await op.until(lambda: op.vm("web-01").device.poll_interval == 1, "stats every 1 s")
        await op.press("q")
        await op.until(lambda: not op.app.is_running, "balloontui to quit")
        assert op.vm("web-01").device.poll_interval == 0
        assert op.vm("db-01").device.poll_interval == 5


async def test_a_vm_without_a_balloon_does_not_suggest_turning_its_stats_on(tmp_path):
    specs = [VMSpec("web-01"), VMSpec("plain-01", has_balloon=False)]
    async with operating(tmp_path, specs) as op:
        numbers = plain(op.pane("plain-01").query_one(".numbers"))
        assert numbers.endswith("guest stats: –"), numbers  # i would do nothing there
        assert op.pane("plain-01").border_subtitle
        assert "no balloon device" in plain(op.pane("plain-01").border_subtitle)
        assert plain(op.pane("web-01").query_one(".numbers")).splitlines()[1].startswith("avail")


async def test_at_80_columns_the_footer_shows_every_key_it_lists_quit_included(tmp_path):
    async with operating(tmp_path, FOUR[:1], size=(80, 24)) as op:
        width = op.app.size.width

        def cut() -> list[str]:
            return [f"{k.key} {k.description}" for k in op.app.screen.query(FooterKey)
                    if k.region.right > width]

        assert [k for k in op.app.screen.query(FooterKey) if k.key == "q"], "q Quit is listed"
        # The footer tightens on its first resize; give its new layout a frame to settle.
        await op.until(lambda: not cut(), "every footer key within 80 columns", timeout=2)


async def test_the_program_freezes_its_long_lived_objects_out_of_full_gc_passes(tmp_path):
    """Full passes of the cyclic collector over a thousand VMs' objects stalled keys 100-200 ms
    (benchmark, keypress p99); the program freezes what it holds once the VMs are up."""
    before = gc.get_freeze_count()
    try:
        async with operating(tmp_path, FOUR[:2], freeze_long_lived=True) as op:
            await op.until(lambda: gc.get_freeze_count() > before, "long-lived objects frozen",
                           timeout=5)
    finally:
        gc.unfreeze()
