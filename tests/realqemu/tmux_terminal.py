"""A real terminal for a test: a program in a detached tmux session of a fixed size.

:class:`TmuxTerminal` runs one program in a private tmux server (its own ``-L`` socket, so the
test never touches the user's tmux), types keys into it with ``send-keys`` and reads the screen
as plain text with ``capture-pane``. A shell in the pane runs the program, waits for it and
writes its exit status to a file; the pane stays after it exits (``remain-on-exit``), so the
test can read what was left on the screen.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shlex
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

__all__ = ["TmuxTerminal", "TerminalError", "box", "border_colours"]

TMUX = "tmux"
TMUX_CONFIG = """\
set -g status off
set -g remain-on-exit on
set -g default-shell /bin/sh
"""
"""No status line (the program gets every row) and a dead pane that stays to be read."""


class TerminalError(AssertionError):
    """The terminal did not do what the test waited for; the message says what it showed."""


class TmuxTerminal:
    """One program in a detached tmux session of ``width`` × ``height``: keys in, text out."""

    def __init__(self, workdir: Path, *, width: int = 120, height: int = 40) -> None:
        self.workdir = Path(workdir)
        self.width = width
        self.height = height
        self.server = f"bt-test-{os.getpid()}-{secrets.token_hex(4)}"
        self.last_screen = ""
        self._started = False
        self._socket: Path | None = None
        self._status_file = self.workdir / "exit-status"

    async def _tmux(self, *args: str, check: bool = True) -> str:
        config = self.workdir / "tmux.conf"
        process = await asyncio.create_subprocess_exec(
            TMUX, "-L", self.server, "-f", str(config), *args,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=_server_environment(),
        )
        out, err = await asyncio.wait_for(process.communicate(), 30)
        if check and process.returncode != 0:
            raise TerminalError(f"tmux {' '.join(args)} failed ({process.returncode}): "
                                f"{err.decode(errors='replace').strip()}")
        return out.decode(errors="replace")

    async def start(self, argv: Sequence[str | os.PathLike[str]],
                    env: Mapping[str, str] | None = None) -> None:
        """Run ``argv`` in a new detached session; ``env`` is added to the program's environment.

        Nothing is redirected: a Textual app draws on the terminal through stderr.
        """
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "tmux.conf").write_text(TMUX_CONFIG)
        env_args = [arg for name, value in (env or {}).items() for arg in ("-e", f"{name}={value}")]
        # The exit status comes from the pane's shell, not from tmux: tmux 3.3 sometimes never
        # reaps a pane's process (seen here: a zombie for minutes, #{pane_dead_status} empty).
        self._status_file.unlink(missing_ok=True)
        command = f"{shlex.join(map(str, argv))}; echo $? > {shlex.quote(str(self._status_file))}"
        await self._tmux("new-session", "-d", "-s", "main", "-x", str(self.width),
                         "-y", str(self.height), *env_args, command)
        self._started = True
        self._socket = Path((await self._tmux("display-message", "-p", "#{socket_path}")).strip())

    async def screen(self, styled: bool = False) -> str:
        """The screen as plain text, one line per row, trailing blanks trimmed; ``styled``
        keeps the colours and attributes as escape sequences (see :func:`border_colours`).
        """
        screen = await self._tmux("capture-pane", "-p", *(["-e"] if styled else []),
                                  "-t", "main")
        self.last_screen = _SGR.sub("", screen) if styled else screen
        return screen

    async def press(self, *keys: str) -> None:
        """Press keys by their tmux names (``Enter``, ``Escape``, ``Left``, ``Tab``...)."""
        await self._tmux("send-keys", "-t", "main", *keys)

    async def type(self, text: str) -> None:
        """Type ``text`` literally (``-`` and ``q`` included: nothing is a key name here)."""
        await self._tmux("send-keys", "-t", "main", "-l", "--", text)

    async def wait_for(self, condition: str | re.Pattern[str] | Callable[[str], object],
                       timeout: float = 30.0, what: str | None = None,
                       styled: bool = False) -> str:
        """Poll the screen until it contains ``condition`` (text or regex) or satisfies it (a
        function of the screen, given ``styled`` if asked); return that screen. On timeout,
        fail showing the last screen.
        """
        if isinstance(condition, str):
            wanted, what = (lambda s: condition in s), what or repr(condition)
        elif isinstance(condition, re.Pattern):
            wanted, what = condition.search, what or f"/{condition.pattern}/"
        else:
            wanted, what = condition, what or getattr(condition, "__name__", "the condition")
        deadline = time.monotonic() + timeout
        while True:
            screen = await self.screen(styled)
            try:
                if wanted(screen):
                    return screen
            except LookupError:
                pass  # e.g. a box not drawn yet
            if await self.exit_status() is not None:
                raise TerminalError(f"the program exited ({await self.exit_status()}) while "
                                    f"waiting for {what}; last screen:\n{self.last_screen}")
            if time.monotonic() > deadline:
                raise TerminalError(f"the screen did not show {what} in {timeout:.0f} s; "
                                    f"last screen:\n{self.last_screen}")
            await asyncio.sleep(0.2)

    async def history(self, lines: int = 200) -> str:
        """The last ``lines`` rows written, scrolled away or not: what a program printed
        after it left the alternate screen (a traceback) is there."""
        return await self._tmux("capture-pane", "-p", "-J", "-S", f"-{lines}", "-t", "main")

    async def program_pid(self, timeout: float = 10.0) -> int:
        """The program's process id (a child of the pane's shell) while it runs."""
        shell = int((await self._tmux("display-message", "-p", "-t", "main",
                                      "#{pane_pid}")).strip())
        deadline = time.monotonic() + timeout
        while True:
            try:
                children = Path(f"/proc/{shell}/task/{shell}/children").read_text().split()
            except FileNotFoundError:
                children = []
            if children:
                return int(children[0])
            if time.monotonic() > deadline:
                raise TerminalError(f"no program runs in the pane after {timeout:.0f} s")
            await asyncio.sleep(0.1)

    async def exit_status(self) -> int | None:
        """The program's exit status once it has exited (128 + N if a signal N killed it),
        else ``None``.
        """
        try:
            text = self._status_file.read_text()
        except FileNotFoundError:
            return None
        return int(text) if text.endswith("\n") else None  # else still being written

    async def wait_closed(self, timeout: float = 10.0) -> None:
        """Wait for the pane's terminal to close: nothing runs in it any more."""
        deadline = time.monotonic() + timeout
        while (await self._tmux("display-message", "-p", "-t", "main",
                                "#{pane_dead}")).strip() != "1":
            if time.monotonic() > deadline:
                raise TerminalError(f"the pane still has a process after {timeout:.0f} s")
            await asyncio.sleep(0.1)

    async def wait_exit(self, timeout: float = 30.0) -> int:
        """Wait for the program to exit and return its exit status."""
        deadline = time.monotonic() + timeout
        while (status := await self.exit_status()) is None:
            if time.monotonic() > deadline:
                raise TerminalError(f"the program still runs after {timeout:.0f} s; "
                                    f"last screen:\n{await self.screen()}")
            await asyncio.sleep(0.2)
        return status

    async def close(self) -> None:
        """Kill the tmux server and whatever still runs in it. Safe to call more than once."""
        if self._started:
            self._started = False
            await self._tmux("kill-server", check=False)
        if self._socket is not None:  # tmux leaves its socket file behind
            self._socket.unlink(missing_ok=True)
            self._socket = None


def _server_environment() -> dict[str, str]:
    """The environment the tmux server, and so the program, starts with.

    Given explicitly because a ``readline`` imported anywhere in the test process (pytest's
    session does) exports ``COLUMNS=80 LINES=24`` to the C environment behind ``os.environ``'s
    back; a child would inherit them, and a program asking ``shutil.get_terminal_size()`` (as
    Textual does) would draw 80×24 in a 120×40 pane. The size must come from the pane.
    """
    return {name: value for name, value in os.environ.items()
            if name not in ("COLUMNS", "LINES", "TMUX", "TMUX_PANE")}


_SGR = re.compile(r"\x1b\[([0-9;]*)m")
_TOP_LEFT = re.compile(r"[╭┏┌╔][─━═] (\S+)")
_BASIC_COLOURS = {str(code) for code in (*range(30, 38), *range(90, 98))}


def border_colours(styled: str) -> dict[str, str]:
    """The foreground colour (an SGR code such as ``38;5;74``, ``""`` for the default) of the
    top-left corner of every box on a ``styled`` screen, by the first word of its title.

    A Textual app shows which widget has the focus by its border colour, not in text.
    """
    colours: dict[str, str] = {}
    for line in styled.splitlines():
        plain, fg, colour = [], [], ""
        for token in re.finditer(r"\x1b\[([0-9;]*)m|(.)", line):
            if token.group(2) is not None:
                plain.append(token.group(2))
                fg.append(colour)
                continue
            codes = token.group(1).split(";")
            i = 0
            while i < len(codes):
                if codes[i] in ("", "0", "39"):
                    colour = ""
                elif codes[i] in _BASIC_COLOURS:
                    colour = codes[i]
                elif codes[i] == "38":  # 38;5;N or 38;2;R;G;B
                    width = 3 if codes[i + 1:i + 2] == ["5"] else 5
                    colour = ";".join(codes[i:i + width])
                    i += width - 1
                elif codes[i] in ("48", "58"):  # background / underline colour: skip its values
                    i += 2 if codes[i + 1:i + 2] == ["5"] else 4
                i += 1
        text = "".join(plain)
        for found in _TOP_LEFT.finditer(text):
            colours.setdefault(found.group(1), fg[found.start()])
    return colours


def box(screen: str, title: str) -> str:
    """The rows of the box whose top border starts with ``title``, borders included, cut out of
    a screen where boxes may stand side by side. Any border style: round, heavy, square or
    double (Textual changes a box's border with its state). Raises LookupError if not shown.
    """
    lines = screen.splitlines()
    top_left = re.compile(rf"[╭┏┌╔][─━═] {re.escape(title)} ")
    for top, line in enumerate(lines):
        found = top_left.search(line)
        corner = found and re.compile("[╮┓┐╗]").search(line, found.start())
        if corner:
            left, right = found.start(), corner.start()
            break
    else:
        raise LookupError(f"no box titled {title!r} on the screen")
    rows = []
    for line in lines[top:]:
        rows.append(line[left:right + 1])
        if line[left:left + 1] in ("╰", "┗", "└", "╚"):
            return "\n".join(rows)
    raise LookupError(f"the box titled {title!r} has no bottom border on the screen")
