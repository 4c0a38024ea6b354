"""Recognising what a guest does with its balloon by itself, from what QMP lets us see.

QMP shows only ``actual``; the target is what we asked for (or unknown). From the two, and the
order in which ``actual`` moves, we can tell:

- a **deflate-on-oom episode**: ``actual`` rises above an unchanged target while the guest has
  deflate-on-oom; a driver never overshoots a target, so only the guest's OOM path does this;
- a target **changed elsewhere**: the guest inflates below our target (only the host can ask for
  that), or deflates above it without deflate-on-oom;
- a **stall**: the target is not reached and ``actual`` has not moved for a while although the VM
  runs (no balloon driver, or a guest that cannot free more memory);
- a **death under balloon pressure**: the guest panicked, reset or vanished while inflated.

When the target is unknown, the value ``actual`` settled at stands in for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from balloontui.core.clock import Clock
from balloontui.core.sizes import TARGET_TOLERANCE, format_size
from balloontui.core.vm_state import TargetSource, VMState

STALL_AFTER = 10.0
"""Seconds without progress, while running and short of the target, before we call it a stall."""
EPISODE_QUIET = 5.0
"""Seconds without a further self-deflation before a deflate-on-oom episode is over."""
SETTLE_AFTER = 3.0
"""Seconds ``actual`` must hold still to stand in for an unknown target."""
REBOOT_GRACE = 60.0
"""After a reset the guest reloads its driver, empties and refills the balloon: not a change."""
TOLERANCE = TARGET_TOLERANCE


class NoticeKind(Enum):
    LINK = "link"
    STATE = "state"
    TARGET_SET = "target set"
    TARGET_REACHED = "target reached"
    CHANGED_ELSEWHERE = "changed elsewhere"
    EPISODE_START = "deflate-on-oom"
    EPISODE_END = "deflate-on-oom over"
    DEATH = "death"
    STALL = "stall"
    STALL_END = "stall over"
    STATS = "stats"
    QEMU_RESTARTED = "qemu restarted"


@dataclass(frozen=True, slots=True)
class Notice:
    """Something worth an operator's attention, recognised for one VM."""

    vm: str
    at: float
    """Wall-clock seconds."""
    kind: NoticeKind
    text: str
    data: dict[str, Any] = field(default_factory=dict)


NoticeSink = Callable[[NoticeKind, str, dict[str, Any]], None]


class GuestBehaviour:
    """Follows one VM's ``actual`` against its target and says what the guest did by itself.

    It updates the recognition fields of :class:`VMState` (``stall``, ``changed_elsewhere``,
    ``deflated_by_guest``, ``in_episode``) and reports :class:`NoticeKind` notices to ``notify``.
    """

    def __init__(self, state: VMState, clock: Clock, notify: NoticeSink) -> None:
        self.state = state
        self.clock = clock
        self.notify = notify
        now = clock.now()
        self._last_change = now
        self._reference: int | None = None  # the settled actual, when the target is unknown
        self._requested: int | None = None  # a target on its way to QEMU
        self._set_at: float | None = None
        self._actual_at_set: int | None = None
        self._moved_since_set = False
        self._reached_reported = True
        self._episode_start: float | None = None
        self._episode_from = 0
        self._last_rise = 0.0
        self._grace_until = 0.0

    # -- what the session tells us -------------------------------------------------------------

    def target_requested(self, target: int | None) -> None:
        """A ``balloon`` command is on its way (None: it failed): QEMU's first event may come
        before its reply, and the move towards ``target`` is ours, not someone else's."""
        self._requested = target

    def target_set(self, target: int, source: TargetSource) -> None:
        """We (or a remembered earlier run) asked for ``target``: a fresh start for recognition."""
        state = self.state
        self._end_episode()
        state.target, state.target_source = target, source
        self._requested = None
        state.changed_elsewhere = False
        state.deflated_by_guest = None
        self._reference = None
        now = self.clock.now()
        self._set_at = now
        self._last_change = now
        self._actual_at_set = state.actual
        self._moved_since_set = False
        self._reached_reported = source is not TargetSource.SET_HERE
        self._clear_stall()
        if state.actual is not None:
            self._check_reached(state.actual)

    def target_forgotten(self) -> None:
        self.state.target = self.state.target_source = None
        self._reference = None

    def actual_resynced(self, actual: int) -> None:
        """``actual`` read right after (re)connecting: compare it with the target we hold.

        Events are not replayed, so anything the guest did while we were away shows only here.
        """
        state = self.state
        state.actual = actual
        self._last_change = self.clock.now()
        target = state.target
        if target is None:
            return
        if actual > target + TOLERANCE and state.features.deflate_on_oom_active:
            state.deflated_by_guest = actual - target
        elif actual < target - TOLERANCE or (actual > target + TOLERANCE
                                             and state.features.deflate_on_oom_active is False):
            if self._moved_since_set or state.target_source is TargetSource.REMEMBERED:
                self._changed_elsewhere(actual, target, while_away=True)

    def actual_changed(self, actual: int) -> None:
        """A new ``actual`` from an event or a poll."""
        state = self.state
        previous = state.actual
        state.actual = actual
        if previous is None:
            self._last_change = self.clock.now()
            return
        if actual == previous:
            return
        now = self.clock.now()
        self._last_change = now
        self._moved_since_set = True
        self._clear_stall()
        if now < self._grace_until:
            return
        target = self._requested
        if target is None:
            target = state.target if state.target is not None else self._reference
        if target is None:
            return
        rising = actual > previous
        if rising and actual > target + TOLERANCE:
            if state.features.deflate_on_oom_active:
                self._guest_deflating(now, previous, actual, target)
            else:
                self._changed_elsewhere(actual, target)
        elif not rising and actual < target - TOLERANCE:
            self._changed_elsewhere(actual, target)
        elif state.target is not None:
            self._check_reached(actual)

    def reset(self, guest: bool, reason: str) -> None:
        """A RESET event: the guest reboots, reloads its driver, and refills the balloon."""
        now = self.clock.now()
        if guest and now >= self._grace_until:
            self.ended(f"the guest reset itself ({reason})", guest_fault=True)
        self._grace_until = now + REBOOT_GRACE
        self._end_episode()
        self._clear_stall()

    def ended(self, how: str, guest_fault: bool) -> None:
        """The guest stopped: a death under balloon pressure if it was inflated."""
        state = self.state
        self._end_episode()
        self._clear_stall()
        if not guest_fault or state.memory is None or state.actual is None:
            return
        ballooned = state.memory - state.actual
        if ballooned <= TOLERANCE:
            return
        doom = state.features.deflate_on_oom_active
        text = f"died with {format_size(ballooned)} in the balloon: {how}"
        if doom is False:
            text += "; deflate-on-oom was off, so the guest could not take that memory back"
        stats = state.stats
        if stats is not None and stats.available is not None:
            text += f"; {format_size(stats.available)} available at the last report"
        self.notify(NoticeKind.DEATH, text, {"ballooned": ballooned, "deflate_on_oom": doom,
                                             "how": how})

    def resumed(self) -> None:
        """The VM runs again: the stall clock restarts, a paused balloon was not stuck."""
        self._last_change = self.clock.now()

    def tick(self) -> None:
        """Called about once a poll: ends quiet episodes, settles references, finds stalls."""
        state = self.state
        now = self.clock.now()
        if self._episode_start is not None and now - self._last_rise >= EPISODE_QUIET:
            self._end_episode()
        actual = state.actual
        if actual is None or state.paused or now < self._grace_until:
            return
        quiet = now - self._last_change
        if state.target is None:
            if quiet >= SETTLE_AFTER:
                self._reference = actual
            return
        target = state.target
        short = abs(actual - target) > TOLERANCE and not (
            actual > target and state.deflated_by_guest)
        if short and quiet >= STALL_AFTER and state.stall is None:
            if not self._moved_since_set:
                why = (f"the guest has not moved its balloon towards {format_size(target)} "
                       f"in {quiet:.0f} s: no balloon driver loaded?")
            else:
                why = (f"the balloon stopped at {format_size(actual)}, "
                       f"{format_size(abs(actual - target))} short of {format_size(target)}: "
                       "the guest cannot free more memory?")
            state.stall = why
            self.notify(NoticeKind.STALL, why, {"actual": actual, "target": target})

    # -- recognition -----------------------------------------------------------------------------

    def _guest_deflating(self, now: float, previous: int, actual: int, target: int) -> None:
        state = self.state
        if self._episode_start is None:
            self._episode_start = now
            self._episode_from = max(previous, target)
            state.in_episode = True
            guess = "" if state.target is not None else " (target unknown: probably)"
            self.notify(
                NoticeKind.EPISODE_START,
                f"guest deflating its balloon under memory pressure (deflate-on-oom){guess}",
                {"from": self._episode_from, "actual": actual, "target": target},
            )
        self._last_rise = now
        state.deflated_by_guest = actual - target

    def _end_episode(self) -> None:
        if self._episode_start is None:
            return
        state = self.state
        taken = (state.actual or 0) - self._episode_from
        duration = self._last_rise - self._episode_start
        self._episode_start = None
        state.in_episode = False
        self.notify(
            NoticeKind.EPISODE_END,
            f"guest took back {format_size(taken)} from the balloon in {duration:.1f} s "
            "(deflate-on-oom) and survived",
            {"taken": taken, "duration": duration, "actual": state.actual},
        )

    def _changed_elsewhere(self, actual: int, target: int, while_away: bool = False) -> None:
        state = self.state
        if state.target is None:
            self._reference = None  # the reference was only a guess: follow the new value
            if state.changed_elsewhere:
                return
        elif state.changed_elsewhere:
            return
        state.changed_elsewhere = True
        when = " while we were not connected" if while_away else ""
        self.notify(
            NoticeKind.CHANGED_ELSEWHERE,
            f"another client changed the target{when}: actual {format_size(actual)} moves "
            f"away from {format_size(target)}",
            {"actual": actual, "target": target},
        )
        self.target_forgotten()

    def _check_reached(self, actual: int) -> None:
        target = self.state.target
        if self._reached_reported or target is None or abs(actual - target) > TOLERANCE:
            return
        self._reached_reported = True
        took = self.clock.now() - (self._set_at or self.clock.now())
        self.notify(NoticeKind.TARGET_REACHED,
                    f"reached {format_size(target)} in {took:.1f} s", {"target": target,
                                                                       "seconds": took})

    def _clear_stall(self) -> None:
        if self.state.stall is not None:
            self.state.stall = None
            self.notify(NoticeKind.STALL_END, "the balloon moves again", {})
