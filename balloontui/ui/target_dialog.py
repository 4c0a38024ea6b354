"""The dialog to type a target, checked as you type."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from balloontui.core.session import BalloonSession
from balloontui.core.sizes import EXAMPLES, SizeError, format_size
from balloontui.ui.text import literal


class TargetDialog(ModalScreen[int | None]):
    """Asks for a size for one VM; dismisses with the resolved target, or None."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog-cancel")]

    def __init__(self, session: BalloonSession) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        state = self.session.state
        with Vertical(classes="dialog"):
            yield Label(Content.assemble("Target for ", literal(state.name, "bold")))
            yield Static(
                f"memory {format_size(state.memory)}  ·  target {format_size(state.target)}"
                f"  ·  actual {format_size(state.actual)}", classes="dim")
            yield Input(placeholder=EXAMPLES, id="size")
            yield Static(f"e.g. {EXAMPLES}", id="verdict")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Changed)
    def check(self, event: Input.Changed) -> None:
        verdict = self.query_one("#verdict", Static)
        if not event.value.strip():
            verdict.update(f"e.g. {EXAMPLES}")
            verdict.remove_class("-invalid")
            return
        try:
            target = self.session.parse_target(event.value)
        except SizeError as err:
            verdict.update(literal(str(err)))
            verdict.add_class("-invalid")
            return
        verdict.remove_class("-invalid")
        current = self.session.state.target or self.session.state.actual
        change = "" if current is None else f" ({'+' if target >= current else '-'}" \
            f"{format_size(abs(target - current))})"
        verdict.update(f"→ {format_size(target)}{change}   enter to set, escape to cancel")

    @on(Input.Submitted)
    def submit(self, event: Input.Submitted) -> None:
        try:
            target = self.session.parse_target(event.value)
        except SizeError:
            return  # the verdict already says why; nothing is sent
        self.dismiss(target)

    def action_cancel(self) -> None:
        self.dismiss(None)
