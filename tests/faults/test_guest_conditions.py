"""VMs whose balloon cannot do what is asked, or does something else: no balloon device, no
balloon driver in the guest, a paused VM, another client's target."""

from __future__ import annotations

from balloontui.core import recognition
from balloontui.core.sizes import MiB
from balloontui.sim.vm import VMSpec
from balloontui.ui.app import BalloonApp
from tests.faults.conftest import Operator, operating, plain

STEERING_KEYS = ("minus", "plus", "m", "i", "I")
STEER_ONE = ("minus", "plus", "m", "t")
"""Keys that steer the focused VM's balloon (i and I change its stats interval)."""


def toasts(app: BalloonApp) -> list[str]:
    """The text of every toast on screen."""
    return [plain(toast.render()) for toast in app.screen.query("Toast")]


async def polls_of(op: Operator, name: str, more: int) -> None:
    """Wait until ``name`` has been polled ``more`` times again."""
    count = len(op.sent(name, "query-balloon"))
    await op.until(lambda: len(op.sent(name, "query-balloon")) >= count + more,
                   f"{more} more polls of {name}")


async def test_a_vm_without_a_balloon_device_has_nothing_to_steer(tmp_path):
    async with operating(tmp_path, [VMSpec("plain-01", has_balloon=False),
                                    VMSpec("ok-01")]) as op:
        assert await op.until_condition("plain-01", "no balloon device") == \
            "no balloon device: nothing to steer"
        await op.focus("plain-01")
        answers: dict[str, list[str]] = {}
        for key in (*STEERING_KEYS, "t"):
            op.app.clear_notifications()
            await op.until(lambda: not toasts(op.app), "the toasts to go")
            await op.press(key)
            await op.settle()
            assert op.app.screen is op.app.screen_stack[0], f"{key} opened a dialog"
            if key in STEER_ONE:  # i and I may be refused silently: no stats to change
                await op.until(lambda: toasts(op.app), f"an answer to {key}")
            answers[key] = toasts(op.app)
        assert not op.sent("plain-01", "balloon", "qom-set"), "a command was sent to steer it"
        await op.keys_answer("plain-01")
        await op.shrink_and_see_it_follow("ok-01")
        assert op.condition("plain-01") == "no balloon device: nothing to steer"
        # Each key that would steer it says why it does not: the VM has no balloon device.
        unclear = {key: said for key, said in answers.items() if key in STEER_ONE and not any(
            t.startswith("plain-01: ") and "no balloon device" in t for t in said)}
        assert not unclear, f"keys answered without saying there is no balloon: {unclear}"


async def test_a_guest_without_a_balloon_driver_is_shown_stalled(tmp_path, monkeypatch):
    monkeypatch.setattr(recognition, "STALL_AFTER", 1.5)
    async with operating(tmp_path, [VMSpec("nodrv-01", has_driver=False),
                                    VMSpec("ok-01")]) as op:
        vm = op.vm("nodrv-01")
        await op.focus("nodrv-01")
        await op.press("minus")
        await op.until(lambda: vm.target is not None and vm.target < 512 * MiB,
                       "the target to be set")
        assert (await op.until_condition("nodrv-01", "stalled")).startswith(
            "stalled: the guest has not moved its balloon towards 461 MiB in ")
        assert op.condition("nodrv-01").endswith(" s: no balloon driver loaded?")
        assert vm.actual == 512 * MiB  # nothing moved
        assert any(t.startswith("nodrv-01: the guest has not moved its balloon")
                   for t in toasts(op.app))
        await op.keys_answer("nodrv-01")
        await op.shrink_and_see_it_follow("ok-01")

        vm.clear_fault("no-driver")  # the driver is loaded: the balloon follows its target
        await op.until(lambda: vm.actual == vm.target, "the balloon to reach its target")
        await op.until(lambda: op.condition("nodrv-01") == "", "the stall to be over")


async def test_a_paused_vm_is_shown_paused_and_its_balloon_waits(tmp_path, monkeypatch):
    monkeypatch.setattr(recognition, "STALL_AFTER", 1.0)  # waiting while paused is no stall
    async with operating(tmp_path, [VMSpec("web-01"), VMSpec("ok-01")]) as op:
        vm = op.vm("web-01")
        vm.pause()

        assert await op.until_condition("web-01", "paused") == "paused: the balloon waits"
        assert "paused" in op.title("web-01")
        await op.focus("web-01")
        await op.press("minus")
        await op.until(lambda: vm.target is not None and vm.target < 512 * MiB,
                       "the target to be set while paused")
        await polls_of(op, "web-01", 8)  # well past STALL_AFTER
        assert vm.actual == 512 * MiB and op.session("web-01").state.actual == 512 * MiB
        assert op.condition("web-01") == "paused: the balloon waits"
        await op.keys_answer("web-01")
        await op.shrink_and_see_it_follow("ok-01")

        vm.resume()
        await op.until(lambda: op.session("web-01").state.actual == vm.target,
                       "the balloon to reach the target set while paused")
        await op.until(lambda: op.condition("web-01") == "" and "running" in op.title("web-01"),
                       "web-01 to be shown running")
        texts = [n.text for n in op.app.notices if n.vm == "web-01"]
        assert "paused: the balloon waits until the VM runs again" in texts
        assert "running again" in texts
        assert not [t for t in texts if "stalled" in t or "has not moved" in t], texts


async def test_a_target_set_by_another_client_is_shown_changed_elsewhere(tmp_path):
    async with operating(tmp_path, [VMSpec("web-01"), VMSpec("ok-01")]) as op:
        vm = op.vm("web-01")
        await op.focus("web-01")
        await op.press("minus")
        await op.until(lambda: op.session("web-01").state.actual == vm.target < 512 * MiB,
                       "web-01's balloon to reach the target set here")

        vm.set_target(256 * MiB)  # another management tool's balloon command

        assert await op.until_condition("web-01", "changed") == \
            "target changed by another client"
        await op.until(lambda: "target –" in op.numbers("web-01"),
                       "the target shown as unknown")
        assert any(t.startswith("web-01: another client changed the target: actual ")
                   for t in toasts(op.app)), toasts(op.app)
        await op.keys_answer("web-01")
        await op.shrink_and_see_it_follow("ok-01")
