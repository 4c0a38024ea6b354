"""The footer of every screen: Textual's, tightened on narrow terminals so that the keys it
lists, ``q Quit`` last of them, still fit in 80 columns."""

from __future__ import annotations

from textual import events
from textual.widgets import Footer

COMPACT_BELOW = 100
"""Columns under which the footer drops the padding around its keys."""


class KeyFooter(Footer):
    def on_resize(self, event: events.Resize) -> None:
        self.compact = event.size.width < COMPACT_BELOW
