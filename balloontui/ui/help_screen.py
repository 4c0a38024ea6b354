"""Key ? : every key (as remapped in the config), and what the marks and flags mean."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

LEGEND = (
    ("DoOM ✓", "deflate-on-oom negotiated: under memory pressure the guest takes memory back "
               "from the balloon instead of killing processes"),
    ("DoOM ?", "deflate-on-oom configured, not yet negotiated (guest driver not ready)"),
    ("DoOM ✗", "no deflate-on-oom: a starved guest may kill processes or panic"),
    ("FPR", "free page reporting: the guest returns free pages to the host"),
    ("stats 2s", "the guest reports its memory every 2 s (i cycles off/1/2/5/10/30)"),
    ("target 1 GiB*", "a target set in an earlier run, remembered (QMP cannot read it back)"),
    ("–", "not known (never shown as 0)"),
    ("plot marks", "vertical lines: deflate-on-oom (magenta), stall (yellow), death (red), "
                   "target changed elsewhere (violet)"),
)


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "dialogs.tcss"
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="help-close")]

    def compose(self) -> ComposeResult:
        app = self.app
        rows: list[Content | str | tuple[str, str]] = [("Keys\n", "bold")]
        for binding in app.BINDINGS:
            if not isinstance(binding, Binding):
                continue
            hides = getattr(app, "hides", None)
            if hides is not None and hides(binding.action.split("(")[0]):
                continue  # hidden in read-only mode
            keys = app.get_key_display(binding)
            rows += [(f"  {keys:<10}", "bold $accent"), f" {binding.description}",
                     f"  ({binding.id})\n" if binding.id else "\n"]
        rows += ["  ctrl+p     command palette (VM actions, themes)\n",
                 "\nKeys can be remapped in config.toml under [keymap], by the id in brackets.\n",
                 ("\nWhat you see\n", "bold")]
        for mark, meaning in LEGEND:
            rows += [(f"  {mark:<14}", "bold"), f" {meaning}\n"]
        with VerticalScroll(classes="dialog help"):
            yield Static(Content.assemble(*rows))

    def action_close(self) -> None:
        self.dismiss()
