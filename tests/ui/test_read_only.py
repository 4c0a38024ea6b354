"""--read-only: an operator who may only watch. Steering keys are hidden and do nothing."""

from __future__ import annotations

from balloontui.core.session import SessionSettings
from balloontui.core.sizes import GiB
from balloontui.sim.vm import VMSpec
from balloontui.ui.help_screen import HelpScreen
from tests.ui.conftest import FAST, operating, plain

STEERING_KEYS = ("minus", "plus", "equals_sign", "t", "m", "i", "I")

# The sessions themselves may steer: the UI alone has to keep its hands off.
UI_ONLY_READ_ONLY = SessionSettings(**{**FAST.__dict__, "read_only": False})


async def test_read_only_hides_the_steering_keys_from_the_footer(tmp_path):
    async with operating(tmp_path, [VMSpec("web-01")], read_only=True) as op:
        await op.focus("web-01")
        shown = op.footer_keys()
        assert "minus" not in shown and "plus" not in shown
        assert not {"Grow", "Shrink", "Target", "Full", "Stats"} & set(shown.values())
        assert {"Help", "Overview", "Events", "Filter", "Quit"} <= set(shown.values())


async def test_a_read_only_session_of_key_presses_sends_no_command_that_changes_a_vm(tmp_path):
    specs = [VMSpec("web-01", memory=2 * GiB, initial_target=GiB), VMSpec("db-01")]
    async with operating(tmp_path, specs, settings=UI_ONLY_READ_ONLY, read_only=True) as op:
        for name in ("web-01", "db-01"):
            await op.focus(name)
            for key in STEERING_KEYS:
                await op.press(key)
                assert op.app.screen is op.app.screen_stack[0], f"{key} opened a dialog"
            await op.type("1G")
            await op.press("enter", "escape")
        await op.settle()
        assert op.sent_anywhere("balloon", "qom-set") == []
        assert op.vm("web-01").actual == GiB  # untouched


async def test_the_help_screen_in_read_only_mode_lists_no_steering_key(tmp_path):
    async with operating(tmp_path, [VMSpec("web-01")], read_only=True) as op:
        await op.press("question_mark")
        assert isinstance(op.app.screen, HelpScreen)
        text = plain(op.app.screen.query_one("Static"))
        assert "Overview" in text and "Quit" in text
        for description in ("Grow", "Shrink", "Target", "Full", "Stats all"):
            assert f" {description}  (" not in text
