"""What the screens look like, on a host frozen in time (see scene.py).

No simulator and no wall clock: the same pixels on every run. Update with
``pytest tests/ui/test_snapshots.py --snapshot-update`` and look at the SVGs before committing.
"""

from __future__ import annotations

import asyncio

from textual.pilot import Pilot
from textual.widgets import Input

from tests.ui.scene import frozen_app


async def plots_drawn(pilot: Pilot) -> None:
    """Wait until every visible pane has drawn its plot (the first replot comes with the
    first tick of the app's one-second timer), then freeze anything that blinks."""
    app = pilot.app
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5

    def waiting() -> bool:
        if app.screen is not app.screen_stack[0]:
            return False  # another screen on top: the panes behind it drew before
        panes = list(app.panes.values())  # only the panes of the page exist
        return not panes or any(p.plot_stale or not p.is_mounted for p in panes)

    while waiting():
        assert loop.time() < deadline, "the plots were never drawn"
        await asyncio.sleep(0.02)
    for box in app.screen.query(Input):
        box.cursor_blink = False
    await pilot.pause()


def then(*keys: str):
    """Once the plots are drawn, press ``keys``; wait for the plots again (a zoom replots)."""
    async def run_before(pilot: Pilot) -> None:
        await plots_drawn(pilot)
        await pilot.press(*keys)
        await plots_drawn(pilot)
    return run_before


def test_main_screen_80x24(snap_compare):
    assert snap_compare(frozen_app(), terminal_size=(80, 24), run_before=plots_drawn)


def test_main_screen_160x48(snap_compare):
    assert snap_compare(frozen_app(), terminal_size=(160, 48), run_before=plots_drawn)


def test_zoom_on_the_vm_that_deflated_on_oom(snap_compare):
    assert snap_compare(frozen_app(), terminal_size=(120, 40), run_before=then("right", "enter"))


def test_overview(snap_compare):
    assert snap_compare(frozen_app(), terminal_size=(120, 40), run_before=then("o"))


def test_target_dialog_with_a_typed_size(snap_compare):
    assert snap_compare(frozen_app(), terminal_size=(120, 40),
                        run_before=then("t", "2", ".", "5", "G"))


def test_light_theme(snap_compare):
    assert snap_compare(frozen_app(theme="balloontui-light"), terminal_size=(120, 40),
                        run_before=plots_drawn)


def test_16_colour_theme(snap_compare):
    assert snap_compare(frozen_app(theme="balloontui-16"), terminal_size=(120, 40),
                        run_before=plots_drawn)
