"""The filter (key /): VM names, and words for conditions an operator looks for."""

from __future__ import annotations

from balloontui.core.vm_state import VMState
from balloontui.ui.vm_text import activity

CONDITION_WORDS = ("stalled", "trouble", "paused", "episode", "elsewhere", "inflating",
                   "deflating", "doom", "nostats")


def matches(state: VMState, text: str) -> bool:
    """Every word must match: part of the name, or a condition word the VM is in."""
    return all(_word_matches(state, word) for word in text.lower().split())


def _word_matches(state: VMState, word: str) -> bool:
    if word in state.name.lower():
        return True
    if word == "stalled":
        return state.stall is not None
    if word == "trouble":
        return state.link.is_trouble or state.run_state in ("shutdown", "guest-panicked")
    if word == "paused":
        return state.paused
    if word == "episode":
        return state.in_episode or bool(state.deflated_by_guest)
    if word == "elsewhere":
        return state.changed_elsewhere
    if word in ("inflating", "deflating"):
        return activity(state) == word
    if word == "doom":
        return bool(state.features.deflate_on_oom_active)
    if word == "nostats":
        return not state.stats_interval
    return False
