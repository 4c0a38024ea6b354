"""How a VM reads on screen: its title, its condition and its numbers, as Textual content.

Pure functions of a :class:`VMState`, shared by the panes, the overview and the dialogs, so a
VM reads the same everywhere. Names and messages are shown literally (see :mod:`.text`).
"""

from __future__ import annotations

from textual.content import Content

from balloontui.core.sizes import TARGET_TOLERANCE, Units, format_size
from balloontui.core.vm_state import Link, TargetSource, VMState
from balloontui.ui.text import literal, printable

DASH = "–"


def interval_text(seconds: int | None) -> str:
    if seconds is None:
        return DASH
    return "off" if seconds == 0 else f"{seconds}s"


def doom_text(state: VMState) -> str:
    """Deflate-on-oom in a few characters: negotiated, configured only, or off."""
    features = state.features
    if features.present is not True:
        return ""
    if features.negotiated is not None:
        return "DoOM ✓" if features.deflate_on_oom_active else "DoOM ✗"
    return {True: "DoOM ?", False: "DoOM ✗", None: ""}[features.deflate_on_oom]


def activity(state: VMState) -> str | None:
    """``inflating``/``deflating`` while actual moves towards a known target."""
    if state.target is None or state.actual is None or state.paused or state.stall:
        return None
    if abs(state.actual - state.target) <= TARGET_TOLERANCE or state.deflated_by_guest:
        return None
    return "inflating" if state.actual > state.target else "deflating"


def title(state: VMState) -> Content:
    parts: list[Content | str | tuple[str, str]] = [literal(state.name, "bold")]
    if state.link is Link.CONNECTED and state.run_state:
        style = "" if state.run_state == "running" else "$warning"
        parts += ["  ", (printable(state.run_state), style)]
    doom = doom_text(state)
    if doom:
        parts += ["  ", (doom, "$bt-oom" if "✓" in doom else "")]
    if state.features.free_page_reporting:
        parts += ["  ", "FPR"]
    if state.features.present:
        parts += ["  ", f"stats {interval_text(state.stats_interval)}"]
    return Content.assemble(*parts)


def condition(state: VMState) -> tuple[Content, str]:
    """The most important thing to know about the VM now, and a CSS class for it."""
    if state.link.is_trouble:
        # The pane says which VM; the reason must fit in what is left of a narrow border.
        message = state.link_message.removeprefix(f"{state.address}: ")
        return literal(f"{state.link.value}: {message}", "$error"), "-trouble"
    if state.link is Link.CONNECTING:
        return Content("connecting…"), ""
    if state.features.present is False:
        return Content("no balloon device: nothing to steer"), "-no-balloon"
    if state.run_state in ("shutdown", "guest-panicked", "internal-error"):
        return literal(state.run_state, "$error"), "-trouble"
    if state.stall:
        return literal(f"stalled: {state.stall}", "$bt-stall"), "-stalled"
    if state.in_episode:
        return Content.styled("deflate-on-oom: the guest is taking memory back", "$bt-oom"), \
            "-episode"
    if state.deflated_by_guest:
        text = f"the guest took back {format_size(state.deflated_by_guest)} (deflate-on-oom)"
        return Content.styled(text, "$bt-oom"), "-episode"
    if state.changed_elsewhere:
        return Content.styled("target changed by another client", "$bt-elsewhere"), \
            "-elsewhere"
    if state.paused:
        return Content.styled(f"{state.run_state}: the balloon waits", "$warning"), "-paused"
    moving = activity(state)
    if moving:
        return Content(f"{moving} → {format_size(state.target)}"), "-moving"
    return Content(""), ""


def numbers(state: VMState, units: Units, wall_now: float) -> Content:
    """Two lines of figures: the balloon, then the guest's view of its memory."""
    def size(value: int | None) -> str:
        return format_size(value, units, compact=True)

    target = size(state.target)
    if state.target is not None and state.target_source is TargetSource.REMEMBERED:
        target += "*"  # set in an earlier run (see the help screen)
    line1 = Content.assemble(
        ("mem ", "dim"), size(state.memory),
        ("  target ", "$bt-target"), target,
        ("  actual ", "$bt-actual"), size(state.actual),
        ("  balloon ", "dim"), size(state.balloon_size),
    )
    stats = state.stats
    rates = state.rates
    if stats is None or stats.last_update is None:
        if state.stats_interval is None:
            said = DASH  # not known: not connected, or no balloon to ask (i would do nothing)
        elif state.stats_interval:
            said = "never reported"
        else:
            said = "off (press i to turn them on)"
        return Content.assemble(line1, "\n", ("guest stats: ", "dim"), said)
    age = stats.age(wall_now)

    def rate(value: float | None, as_size: bool) -> str:
        if value is None:
            return DASH
        return format_size(int(value), compact=True) if as_size else f"{value:.0f}"

    swap = (f"{rate(rates.swap_in, True)}/{rate(rates.swap_out, True)}" if rates
            else f"{DASH}/{DASH}")
    faults = (f"{rate(rates.major_faults, False)}/{rate(rates.minor_faults, False)}" if rates
              else f"{DASH}/{DASH}")
    parts: list[str | tuple[str, str]] = [
        ("avail ", "$bt-available"), size(stats.available),
        ("  free ", "$bt-free"), size(stats.free),
        ("  cache ", "dim"), size(stats.caches),
        ("  swap ", "dim"), swap, ("  flt ", "dim"), faults,
    ]
    interval = state.stats_interval or 0
    # The age is shown only when the report is late: a clock ticking in every pane would
    # redraw every pane every second, for nothing, over the operator's SSH link.
    if age is not None and (interval == 0 or age > 3 * interval + 2):
        parts += [("  old ", "$warning"), coarse_age(age)]
    return Content.assemble(line1, "\n", Content.assemble(*parts))


def coarse_age(seconds: float) -> str:
    """``7s``, ``4m``, ``3h``, ``2d``: fine while young, coarse when old."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size:.0f}{unit}"
    return f"{seconds:.0f}s"
