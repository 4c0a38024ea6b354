"""What the guest does by itself, as an operator would narrate it."""

import pytest

from balloontui.core.addresses import VMAddress
from balloontui.core.recognition import GuestBehaviour, NoticeKind
from balloontui.core.sizes import MiB
from balloontui.core.vm_state import DEFLATE_ON_OOM, STATS_VQ, TargetSource, VMState

from .manual_clock import ManualClock

MEMORY = 512 * MiB


class Guest:
    def __init__(self, negotiated=frozenset({DEFLATE_ON_OOM, STATS_VQ})):
        self.clock = ManualClock()
        self.state = VMState(address=VMAddress(path="/x.sock"), name="web-01", memory=MEMORY,
                             run_state="running")
        self.state.features.present = True
        self.state.features.negotiated = negotiated
        self.notices = []
        self.behaviour = GuestBehaviour(self.state, self.clock,
                                        lambda kind, text, data: self.notices.append((kind, text)))
        self.behaviour.actual_resynced(MEMORY)

    def kinds(self):
        return [kind for kind, _ in self.notices]

    def actual(self, value, after=1.0):
        self.clock.advance(after)
        self.behaviour.actual_changed(value)

    def idle(self, seconds):
        for _ in range(int(seconds)):
            self.clock.advance(1.0)
            self.behaviour.tick()


def test_shrink_and_see_actual_follow():
    guest = Guest()
    guest.behaviour.target_set(160 * MiB, TargetSource.SET_HERE)
    guest.actual(MEMORY - MiB, after=0.01)  # the throttled first event
    guest.actual(160 * MiB)
    guest.idle(30)
    assert guest.kinds() == [NoticeKind.TARGET_REACHED]
    assert guest.state.stall is None and not guest.state.changed_elsewhere


def test_the_first_event_may_beat_the_commands_reply():
    guest = Guest()
    guest.idle(5)  # actual settled at 512 MiB: it stands in for the unknown target
    guest.behaviour.target_requested(160 * MiB)
    guest.actual(MEMORY - MiB, after=0.001)
    guest.behaviour.target_set(160 * MiB, TargetSource.SET_HERE)
    assert NoticeKind.CHANGED_ELSEWHERE not in guest.kinds()


def test_deflate_on_oom_episode_as_recorded_from_real_qemu():
    # qemu-7.2-deflate-on-oom.jsonl: target 160 MiB, then actual 161 MiB and 304 MiB a second on.
    guest = Guest()
    guest.behaviour.target_set(160 * MiB, TargetSource.SET_HERE)
    guest.actual(160 * MiB)
    guest.idle(6)
    guest.actual(168820736)
    assert guest.state.in_episode
    guest.actual(318767104)
    assert guest.kinds()[-1] is NoticeKind.EPISODE_START
    guest.idle(20)
    kinds = guest.kinds()
    assert kinds.count(NoticeKind.EPISODE_START) == 1
    assert NoticeKind.EPISODE_END in kinds
    end_text = dict(guest.notices)[NoticeKind.EPISODE_END]
    assert "took back 144 MiB" in end_text and "1.0 s" in end_text
    assert guest.state.deflated_by_guest == 318767104 - 160 * MiB
    assert not guest.state.in_episode
    assert NoticeKind.STALL not in kinds  # above target by the guest's choice, not stuck
    assert NoticeKind.CHANGED_ELSEWHERE not in kinds


def test_without_deflate_on_oom_a_rise_is_someone_elses_doing():
    guest = Guest(negotiated=frozenset({STATS_VQ}))
    guest.behaviour.target_set(160 * MiB, TargetSource.SET_HERE)
    guest.actual(160 * MiB)
    guest.actual(300 * MiB)
    assert guest.kinds()[-1] is NoticeKind.CHANGED_ELSEWHERE
    assert guest.state.target is None  # we no longer know it


def test_inflating_below_our_target_means_changed_elsewhere():
    guest = Guest()
    guest.behaviour.target_set(300 * MiB, TargetSource.SET_HERE)
    guest.actual(300 * MiB)
    guest.actual(200 * MiB)
    assert guest.kinds()[-1] is NoticeKind.CHANGED_ELSEWHERE
    assert guest.state.changed_elsewhere
    guest.actual(100 * MiB)
    assert guest.kinds().count(NoticeKind.CHANGED_ELSEWHERE) == 1  # said once


def test_a_guest_without_driver_stalls_and_says_why():
    guest = Guest()
    guest.behaviour.target_set(200 * MiB, TargetSource.SET_HERE)
    guest.idle(9)
    assert guest.state.stall is None
    guest.idle(2)
    assert "no balloon driver" in guest.state.stall
    guest.actual(400 * MiB)
    assert guest.state.stall is None and guest.kinds()[-1] is NoticeKind.STALL_END


def test_a_paused_vm_is_not_stalled():
    guest = Guest()
    guest.behaviour.target_set(200 * MiB, TargetSource.SET_HERE)
    guest.state.run_state = "paused"
    guest.idle(60)
    assert guest.state.stall is None
    guest.state.run_state = "running"
    guest.behaviour.resumed()
    guest.idle(5)
    assert guest.state.stall is None


@pytest.mark.parametrize(("negotiated", "says_off"),
                         [(frozenset({STATS_VQ}), True), (frozenset({DEFLATE_ON_OOM}), False)])
def test_death_while_inflated(negotiated, says_off):
    guest = Guest(negotiated)
    guest.behaviour.target_set(160 * MiB, TargetSource.SET_HERE)
    guest.actual(160 * MiB)
    guest.behaviour.ended("QEMU shut down (guest-reset)", guest_fault=True)
    kind, text = guest.notices[-1]
    assert kind is NoticeKind.DEATH and "352 MiB in the balloon" in text
    assert ("deflate-on-oom was off" in text) is says_off


def test_no_death_when_the_balloon_was_empty_or_the_host_ended_it():
    guest = Guest()
    guest.behaviour.ended("QEMU shut down (guest-reset)", guest_fault=True)
    guest.behaviour.target_set(160 * MiB, TargetSource.SET_HERE)
    guest.actual(160 * MiB)
    guest.behaviour.ended("QEMU shut down (host-qmp-quit)", guest_fault=False)
    assert NoticeKind.DEATH not in guest.kinds()


def test_a_reboot_refills_the_balloon_without_false_alarms():
    guest = Guest()
    guest.behaviour.target_set(200 * MiB, TargetSource.SET_HERE)
    guest.actual(200 * MiB)
    guest.behaviour.reset(guest=False, reason="host-qmp-system-reset")
    guest.behaviour.reset(guest=True, reason="guest-reset")  # QEMU sends this one too
    guest.actual(MEMORY - MiB, after=4)
    guest.actual(343932928)
    guest.actual(200 * MiB)
    guest.idle(30)
    assert guest.kinds() == [NoticeKind.TARGET_REACHED]


def test_with_an_unknown_target_the_settled_actual_stands_in():
    guest = Guest()
    guest.actual(256 * MiB)
    guest.idle(5)
    guest.actual(257 * MiB)
    kind, text = guest.notices[-1]
    assert kind is NoticeKind.EPISODE_START and "probably" in text
    assert guest.state.target is None


def test_found_deflated_when_we_come_back():
    guest = Guest()
    guest.behaviour.target_set(160 * MiB, TargetSource.REMEMBERED)
    guest.behaviour.actual_resynced(300 * MiB)
    assert guest.state.deflated_by_guest == 140 * MiB
    guest.behaviour.actual_resynced(100 * MiB)
    assert guest.kinds()[-1] is NoticeKind.CHANGED_ELSEWHERE
