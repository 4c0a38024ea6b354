"""Everything the core recognised, with timestamps, newest at the bottom."""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import RichLog

from balloontui.core.recognition import Notice, NoticeKind
from balloontui.ui.key_footer import KeyFooter
from balloontui.ui.text import printable

KIND_STYLES = {
    NoticeKind.DEATH: "bold red",
    NoticeKind.EPISODE_START: "magenta",
    NoticeKind.EPISODE_END: "magenta",
    NoticeKind.STALL: "yellow",
    NoticeKind.CHANGED_ELSEWHERE: "bright_magenta",
    NoticeKind.LINK: "cyan",
    NoticeKind.QEMU_RESTARTED: "cyan",
}


def notice_line(notice: Notice) -> Text:
    """One log line; names and texts as plain text (a Text is never parsed as markup)."""
    stamp = time.strftime("%H:%M:%S", time.localtime(notice.at))
    line = Text(f"{stamp}  ")
    line.append(f"{printable(notice.vm):<14} ", style="bold")
    line.append(f"{notice.kind.value:<18} ", style=KIND_STYLES.get(notice.kind, "dim"))
    line.append(printable(notice.text))
    return line


class EventLogScreen(Screen[None]):
    BINDINGS = [Binding("escape,e", "close", "Back", id="events-close")]
    DEFAULT_CSS = "EventLogScreen RichLog { height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield RichLog(markup=False, highlight=False, wrap=True, max_lines=5000)
        yield KeyFooter()

    def on_mount(self) -> None:
        log = self.query_one(RichLog)
        for notice in self.app.notices:  # type: ignore[attr-defined]
            log.write(notice_line(notice))
        self.sub_title = "event log"

    def add(self, notice: Notice) -> None:
        self.query_one(RichLog).write(notice_line(notice))

    def action_close(self) -> None:
        self.dismiss()
