"""The panes of one page of VMs: as many as fit the screen, and no more widgets than that.

With hundreds of VMs only the panes on screen exist, so the work per second follows what the
operator sees, not the size of the host. Moving past the last row scrolls the page by a row;
page up/down turn a whole page; a zoom shows one VM alone, as large as the screen.
"""

from __future__ import annotations

from textual.containers import Container
from textual.message import Message

from balloontui.core.session import BalloonSession
from balloontui.ui.vm_pane import VMPane

MIN_PANE_HEIGHT = 10


class PageBuilt(Message):
    """New panes are on screen: they need their text and their plot."""

    def __init__(self, panes: list[VMPane]) -> None:
        super().__init__()
        self.panes = panes


def columns_for(width: int) -> int:
    return 1 if width < 100 else 2 if width < 160 else 3


class PaneGrid(Container, can_focus=False):
    """Lays out a window onto the (filtered) list of sessions."""

    DEFAULT_CSS = """
    PaneGrid { layout: grid; grid-gutter: 0 1; height: 1fr; grid-rows: 1fr; }
    """

    def __init__(self, sessions: list[BalloonSession], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.sessions = sessions
        self.shown = list(sessions)
        self.first = 0
        self.zoomed: str | None = None
        self.panes: dict[str, VMPane] = {}
        self._layout = (0, 0)

    @property
    def capacity(self) -> int:
        columns, rows = self._layout
        return max(1, columns * rows)

    def fit(self) -> tuple[int, int]:
        if self.zoomed is not None:
            return 1, 1
        columns = columns_for(self.app.size.width)
        rows = max(1, self.size.height // MIN_PANE_HEIGHT) if self.size.height else 1
        needed = -(-len(self.shown) // columns)  # a few VMs get taller panes, not blank rows
        return columns, max(1, min(rows, needed))

    def on_resize(self) -> None:
        self.build_page()

    def set_shown(self, shown: list[BalloonSession]) -> None:
        """Show only these sessions (a filter), keeping the focused one in view if it stays."""
        if [s.key for s in shown] == [s.key for s in self.shown]:
            return
        focused = self.focused_key()
        self.shown = shown
        if focused is not None and any(s.key == focused for s in shown):
            self.reveal(focused)
        else:
            self.first = 0
            self.build_page()

    def zoom(self, key: str | None) -> None:
        self.zoomed = key
        self.set_class(key is not None, "-zoomed")
        self.build_page(focus=key)

    def reveal(self, key: str) -> None:
        """Bring a VM's pane onto the page."""
        if self.zoomed is not None and key != self.zoomed:
            self.zoomed = key  # zoomed in, the zoom follows to the VM asked for
            self.build_page(focus=key)
            return
        keys = [s.key for s in self.shown]
        if key not in keys:
            return
        index = keys.index(key)
        columns, _ = self.fit()
        if not self.first <= index < self.first + self.capacity:
            self.first = index - index % columns
        self.build_page(focus=key)

    def scroll_rows(self, rows: int) -> None:
        columns, _ = self._layout
        self.first += rows * max(1, columns)
        self.build_page()

    def turn_page(self, pages: int) -> None:
        self.first += pages * self.capacity
        self.build_page()

    def move_focus(self, direction: str) -> None:
        """Arrows: move within the page; past its edge, the page follows."""
        columns, _ = self._layout
        columns = max(1, columns)
        keys = [s.key for s in self.shown]
        focused = self.focused_key()
        if not keys:
            return
        index = keys.index(focused) if focused in keys else self.first
        delta = {"up": -columns, "down": columns, "left": -1, "right": 1}[direction]
        new = index + delta
        if not 0 <= new < len(keys):
            new = index if direction in ("up", "down") else max(0, min(len(keys) - 1, new))
        self.reveal(keys[new])

    def focused_key(self) -> str | None:
        focused = self.app.focused
        return focused.key if isinstance(focused, VMPane) and focused.parent is self else None

    def build_page(self, focus: str | None = None) -> None:
        """Mount the panes of the current page (only if the page changed)."""
        if not self.is_mounted:
            return
        layout = self.fit()
        self._layout = layout
        if self.zoomed is not None:
            page = [s for s in self.sessions if s.key == self.zoomed]
        else:
            last_start = max(0, len(self.shown) - self.capacity)
            self.first = max(0, min(self.first, last_start))
            page = self.shown[self.first:self.first + self.capacity]
        focus = focus or self.focused_key()
        columns, rows = layout
        self.styles.grid_size_columns = columns
        self.styles.grid_size_rows = rows
        if [s.key for s in page] == list(self.panes):
            self._focus(focus)
            return
        # A new page gets new panes: a pane cannot be mounted again once removed, and page
        # changes (scrolling, filtering) are rare next to updates.
        panes = [VMPane(s) for s in page]
        self.panes = {pane.key: pane for pane in panes}
        self.call_next(self._replace_panes, panes, focus)

    async def _replace_panes(self, panes: list[VMPane], focus: str | None) -> None:
        if list(self.panes.values()) != panes:
            return  # a newer page was asked for meanwhile
        await self.remove_children()
        await self.mount_all(panes)
        self.post_message(PageBuilt(panes))
        # Removing the focused pane sent the focus elsewhere (the filter box): take it back.
        self._focus(focus, force=focus is not None)

    def focus_page(self) -> None:
        """Give the focus back to the page (after the filter box)."""
        self._focus(None, force=True)

    def _focus(self, key: str | None, force: bool = False) -> None:
        if not force and self.app.focused is not None and \
                not isinstance(self.app.focused, VMPane):
            return  # the operator is typing elsewhere (the filter)
        pane = self.panes.get(key or "") or next(iter(self.panes.values()), None)
        if pane is not None and pane.is_attached:
            # At once: Widget.focus() would queue the move behind keys already waiting, and a
            # key typed right after an arrow would act on the pane the arrow left.
            self.app.set_focus(pane, scroll_visible=False)
