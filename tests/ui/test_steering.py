"""Steering balloons from the keyboard: + and -, t and a typed size, m, i and I, the guard rail.

Each test is an operator's session against simulated QEMUs; what counts is what reaches them.
"""

from __future__ import annotations

from textual import events

from balloontui.core.sizes import GiB, MiB, PAGE_SIZE, format_size
from balloontui.sim.vm import VMSpec
from balloontui.ui.confirm_dialog import ConfirmDialog
from balloontui.ui.target_dialog import TargetDialog
from tests.ui.conftest import operating, plain


def whole_pages_below(memory: int, target: float) -> int:
    """The target QEMU reaches for ``target``: memory minus a whole number of 4 KiB pages."""
    return memory - int(memory - target) // PAGE_SIZE * PAGE_SIZE


async def test_shrink_web_01_by_a_step_and_see_actual_follow(tmp_path):
    async with operating(tmp_path, [VMSpec("web-01", memory=2 * GiB)]) as op:
        pane = await op.focus("web-01")
        await op.press("minus")
        step_down = whole_pages_below(2 * GiB, 0.9 * 2 * GiB)  # the default step: 10 %
        await op.until(lambda: op.sent("web-01", "balloon"), "the balloon command")
        assert op.sent("web-01", "balloon") == [{"value": step_down}]
        await op.until(lambda: op.vm("web-01").actual == step_down, "QEMU's actual to follow")
        await op.until(lambda: "actual 1.80G" in plain(pane.query_one(".numbers")),
                       "the pane to show the new actual")
        assert "target 1.80G" in plain(pane.query_one(".numbers"))


async def test_grow_a_shrunk_vm_by_a_step(tmp_path):
    spec = VMSpec("web-01", memory=2 * GiB, initial_target=GiB)
    async with operating(tmp_path, [spec]) as op:
        await op.focus("web-01")
        await op.press("plus")
        step_up = whole_pages_below(2 * GiB, GiB + 0.1 * 2 * GiB)
        await op.until(lambda: op.sent("web-01", "balloon") == [{"value": step_up}],
                       "a balloon command one step up")
        await op.until(lambda: op.vm("web-01").actual == step_up, "the balloon to deflate")
        await op.press("equals_sign")  # the same key without shift
        await op.until(lambda: len(op.sent("web-01", "balloon")) == 2, "a second step")
        assert op.sent("web-01", "balloon")[1] == {
            "value": whole_pages_below(2 * GiB, step_up + 0.1 * 2 * GiB)}


async def test_a_step_given_with_the_step_option(tmp_path):
    async with operating(tmp_path, [VMSpec("web-01", memory=2 * GiB)], step="256M") as op:
        await op.focus("web-01")
        await op.press("minus")
        await op.until(lambda: op.sent("web-01", "balloon"), "the balloon command")
        assert op.sent("web-01", "balloon") == [{"value": 2 * GiB - 256 * MiB}]


async def test_steps_go_to_the_focused_vm_only(tmp_path):
    specs = [VMSpec("web-01", memory=GiB), VMSpec("db-01", memory=GiB)]
    async with operating(tmp_path, specs) as op:
        await op.focus("db-01")
        await op.press("minus")
        await op.until(lambda: op.sent("db-01", "balloon"), "db-01's balloon command")
        await op.settle()
        assert op.sent("web-01", "balloon") == []


async def test_type_a_target_and_see_it_reached(tmp_path):
    async with operating(tmp_path, [VMSpec("web-01", memory=2 * GiB)]) as op:
        await op.focus("web-01")
        await op.press("t")
        assert isinstance(op.app.screen, TargetDialog)
        await op.type("1G")
        verdict = op.app.screen.query_one("#verdict")
        assert plain(verdict).startswith("→ 1 GiB (-1 GiB)")
        assert not verdict.has_class("-invalid")
        await op.press("enter")
        assert not isinstance(op.app.screen, TargetDialog)
        await op.until(lambda: op.vm("web-01").actual == GiB, "QEMU to reach 1 GiB")
        assert op.sent("web-01", "balloon") == [{"value": GiB}]


async def test_a_size_that_is_not_one_is_explained_and_never_sent(tmp_path):
    async with operating(tmp_path, [VMSpec("web-01", memory=2 * GiB)]) as op:
        await op.focus("web-01")
        await op.press("t")
        await op.type("2X")
        verdict = op.app.screen.query_one("#verdict")
        assert "unknown unit 'x'" in plain(verdict)
        assert verdict.has_class("-invalid")
        await op.press("enter")  # refused: the dialog stays, the verdict still says why
        assert isinstance(op.app.screen, TargetDialog)
        await op.press("escape")
        assert not isinstance(op.app.screen, TargetDialog)
        await op.settle()
        assert op.sent("web-01", "balloon") == []


async def test_a_target_above_the_memory_is_refused_in_the_dialog(tmp_path):
    async with operating(tmp_path, [VMSpec("web-01", memory=GiB)]) as op:
        await op.focus("web-01")
        await op.press("t")
        await op.type("3G")
        assert "more than the VM's memory (1 GiB)" in plain(op.app.screen.query_one("#verdict"))
        await op.press("enter", "escape")
        await op.settle()
        assert op.sent("web-01", "balloon") == []


async def test_m_gives_the_vm_all_its_memory_back(tmp_path):
    spec = VMSpec("web-01", memory=2 * GiB, initial_target=GiB)
    async with operating(tmp_path, [spec]) as op:
        await op.focus("web-01")
        await op.press("m")
        await op.until(lambda: op.sent("web-01", "balloon") == [{"value": 2 * GiB}],
                       "a balloon command for all the memory")
        await op.until(lambda: op.vm("web-01").actual == 2 * GiB, "the balloon to empty")


async def test_i_cycles_the_stats_interval_of_the_focused_vm(tmp_path):
    async with operating(tmp_path, [VMSpec("web-01"), VMSpec("db-01")]) as op:
        pane = await op.focus("web-01")
        assert "stats off" in plain(pane.border_title)
        for seconds in (1, 2, 5, 10, 30, 0):
            await op.press("i")
            await op.until(lambda: op.vm("web-01").device.poll_interval == seconds,
                           f"QEMU's stats interval to become {seconds}")
            shown = f"stats {seconds}s" if seconds else "stats off"
            await op.until(lambda: shown in plain(pane.border_title), f"the title: {shown}")
        assert [a["value"] for a in op.sent("web-01", "qom-set")] == [1, 2, 5, 10, 30, 0]
        assert all(a["property"] == "guest-stats-polling-interval"
                   for a in op.sent("web-01", "qom-set"))
        assert op.sent("db-01", "qom-set") == []


async def test_capital_i_sets_every_vm_with_a_balloon_to_the_next_interval(tmp_path):
    specs = [VMSpec("web-01"), VMSpec("db-01"), VMSpec("plain-01", has_balloon=False)]
    async with operating(tmp_path, specs) as op:
        await op.focus("plain-01")  # the focused VM does not matter
        await op.press("I")
        await op.until(lambda: op.vm("web-01").device.poll_interval == 1
                       and op.vm("db-01").device.poll_interval == 1, "stats every 1 s on both")
        await op.press("I")
        await op.until(lambda: op.vm("web-01").device.poll_interval == 2
                       and op.vm("db-01").device.poll_interval == 2, "stats every 2 s on both")
        assert op.sent("plain-01", "qom-set") == []


# The guard rail: a target below what the guest uses (total − available) asks first.

async def ask_for_less_than_the_guest_uses(op, name: str) -> int:
    """Type a target of 16 MiB (an idle 512 MiB guest uses some 40 MiB); returns what it uses."""
    stats = op.session(name).state.stats
    assert stats is not None and stats.used > 16 * MiB
    await op.focus(name)
    await op.press("t")
    await op.type("16M")
    await op.press("enter")
    return stats.used


async def test_too_small_a_target_with_deflate_on_oom_asks_and_cancel_sends_nothing(tmp_path):
    async with operating(tmp_path, [VMSpec("web-01", deflate_on_oom=True)]) as op:
        await ask_for_less_than_the_guest_uses(op, "web-01")
        dialog = op.app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert plain(dialog.question) == "Shrink web-01 to 16 MiB?"
        explanation = plain(dialog.explanation)
        assert "(total − available)" in explanation
        assert "With deflate-on-oom the guest will take memory back" in explanation
        assert "the target will not hold" in explanation
        await op.press("escape")
        assert not isinstance(op.app.screen, ConfirmDialog)
        await op.settle()
        assert op.sent("web-01", "balloon") == []


async def test_too_small_a_target_without_deflate_on_oom_warns_of_oom_kills(tmp_path):
    async with operating(tmp_path, [VMSpec("db-01", deflate_on_oom=False)]) as op:
        await ask_for_less_than_the_guest_uses(op, "db-01")
        dialog = op.app.screen
        assert isinstance(dialog, ConfirmDialog)
        explanation = plain(dialog.explanation)
        assert "Without deflate-on-oom the guest cannot take memory back" in explanation
        assert "OOM killer" in explanation and "panic" in explanation
        await op.pilot.click("#cancel")
        await op.settle()
        assert op.sent("db-01", "balloon") == []


async def test_confirming_a_too_small_target_sends_it(tmp_path):
    async with operating(tmp_path, [VMSpec("web-01", deflate_on_oom=True)]) as op:
        used = await ask_for_less_than_the_guest_uses(op, "web-01")
        assert f"The guest uses {format_size(used)} " in plain(op.app.screen.explanation)
        await op.pilot.click("#confirm")
        await op.until(lambda: op.sent("web-01", "balloon") == [{"value": 16 * MiB}],
                       "the confirmed target to reach QEMU")


async def test_y_confirms_too(tmp_path):
    async with operating(tmp_path, [VMSpec("web-01")]) as op:
        await ask_for_less_than_the_guest_uses(op, "web-01")
        await op.press("y")
        await op.until(lambda: op.sent("web-01", "balloon") == [{"value": 16 * MiB}],
                       "the confirmed target to reach QEMU")


async def test_a_step_down_into_used_memory_asks_too(tmp_path):
    spec = VMSpec("web-01", memory=512 * MiB, initial_target=48 * MiB)
    async with operating(tmp_path, [spec], step="40M") as op:
        assert op.session("web-01").state.stats.used > 8 * MiB
        await op.focus("web-01")
        await op.press("minus")
        assert isinstance(op.app.screen, ConfirmDialog)
        await op.press("escape")
        await op.settle()
        assert op.sent("web-01", "balloon") == []



async def test_a_key_right_after_an_arrow_acts_on_the_pane_the_arrow_chose(tmp_path):
    # Over SSH keys often arrive together: "→t" must open the dialog for the VM on the right.
    specs = [VMSpec("web-01"), VMSpec("db-01")]
    for attempt in range(5):
        async with operating(tmp_path / str(attempt), specs) as op:
            await op.focus("web-01")
            # Back to back, as the terminal driver hands them over.
            op.app.post_message(events.Key("right", None))
            op.app.post_message(events.Key("t", "t"))
            await op.until(lambda: isinstance(op.app.screen, TargetDialog), "the dialog")
            assert op.app.screen.session.state.name == "db-01"
