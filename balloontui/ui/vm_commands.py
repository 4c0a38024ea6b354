"""VM actions in the command palette (ctrl+p), beside Textual's own commands."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import Hit, Hits, Provider
from textual.content import Content

from balloontui.ui.text import printable

if TYPE_CHECKING:
    from balloontui.ui.app import BalloonApp


class VMCommands(Provider):
    """``web-01: full memory``, ``web-01: stats every 5 s``, ``web-01: focus`` ..."""

    def _commands(self) -> list[tuple[str, object, str]]:
        app: BalloonApp = self.app  # type: ignore[assignment]
        found: list[tuple[str, object, str]] = []
        for session in app.monitor.sessions.values():
            name = printable(session.state.name)
            found.append((f"{name}: focus", partial(app.focus_vm, session.key),
                          "show this VM's pane"))
            if app.read_only or not session.state.can_steer:
                continue
            found.append((f"{name}: set target…", partial(app.ask_target, session.key),
                          "type a size"))
            found.append((f"{name}: full memory", partial(app.target_text, session.key, "100%"),
                          "deflate the balloon completely"))
            for seconds in (0, 1, 5, 30):
                label = "off" if seconds == 0 else f"every {seconds} s"
                found.append((f"{name}: stats {label}",
                              partial(app.interval_for, session.key, seconds),
                              "guest stats polling interval"))
        return found

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, callback, help_text in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, help=help_text)  # type: ignore[arg-type]

    async def discover(self) -> Hits:
        for text, callback, help_text in self._commands():
            yield Hit(1.0, Content(text), callback, help=help_text)  # type: ignore[arg-type]
