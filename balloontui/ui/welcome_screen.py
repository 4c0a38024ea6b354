"""Shown when there is no VM to watch: how to connect, and the demo."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from balloontui.config import config_dir
from balloontui.core.default_sockets import DEFAULT_PATTERNS, runtime_dir

WELCOME = """\
No VM to watch: none was named, the config names none, and no QMP socket was found in
{places}.

Give balloontui the QMP sockets of your VMs:

    balloontui /run/vms/web-01.sock 'db=tcp:10.0.0.2:4444' '/run/vms/*.sock'

(QEMU: -qmp unix:/run/vms/web-01.sock,server=on,wait=off — a QMP socket serves one client at
a time, so give QEMU a second -qmp socket if another tool uses the first.)

Or name them once in {config} under [vms].

To see what balloontui does without any VM:

    balloontui demo
"""


class WelcomeScreen(Screen[None]):
    BINDINGS = [Binding("q,escape", "app.quit", "Quit", id="welcome-quit")]
    DEFAULT_CSS = """
    WelcomeScreen { align: center middle; }
    WelcomeScreen Vertical { width: auto; max-width: 100; height: auto; padding: 1 2;
                             border: round $primary; }
    """

    def compose(self) -> ComposeResult:
        places = ", ".join([f"{runtime_dir()}/*.sock", *DEFAULT_PATTERNS])
        text = WELCOME.format(places=places, config=config_dir() / "config.toml")
        with Center(), Vertical():
            yield Static(Content.assemble(("Welcome to balloontui\n\n", "bold $accent"), text))
        yield Footer()
