"""Showing names and messages that come from VMs and operators: literally, never interpreted.

A VM's name (from the command line, the config or QEMU's ``query-name``) may hold Textual markup,
ANSI escapes or control characters. We never parse it as markup, and show control characters as
visible escapes (``\\x1b``) instead of sending them to the terminal.
"""

from __future__ import annotations

import re

from textual.content import Content

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with control characters replaced by visible escapes."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def literal(text: str, style: str = "") -> Content:
    """Content showing ``text`` as it is (no markup), control characters escaped."""
    content = Content(printable(text))
    return content.stylize(style) if style else content
