"""What the Pilot suites share to wait for the screen and to read it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.widgets import Static


async def until(predicate: Callable[[], object], what: str, timeout: float = 8.0) -> None:
    """Wait for ``predicate`` to hold, in short sleeps; fail saying ``what`` did not happen."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.02)


def plain(text: object) -> str:
    """The characters of some shown text (a Content, a str, a Static's content)."""
    if isinstance(text, Static):
        text = text.content
    characters = getattr(text, "plain", None)
    return characters if characters is not None else str(text or "")
