"""All VMs in one table, for hosts with hundreds of them: sortable, filterable."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Input

from balloontui.core.sizes import format_size
from balloontui.core.vm_state import VMState
from balloontui.ui import vm_text
from balloontui.ui.key_footer import KeyFooter
from balloontui.ui.text import literal
from balloontui.ui.vm_filter import matches

if TYPE_CHECKING:
    from balloontui.ui.app import BalloonApp


def _size_key(value: int | None) -> tuple[bool, int]:
    return (value is None, value or 0)


# (column label, width, cell text, sort key)
COLUMNS: list[tuple[str, int, Callable[[VMState, Any], Any], Callable[[VMState], Any]]] = [
    ("VM", 18, lambda s, u: literal(s.name), lambda s: s.name.lower()),
    ("state", 12, lambda s, u: s.run_state or s.link.value, lambda s: s.run_state or ""),
    ("DoOM", 6, lambda s, u: vm_text.doom_text(s).removeprefix("DoOM "),
     lambda s: vm_text.doom_text(s)),
    ("memory", 9, lambda s, u: format_size(s.memory, u), lambda s: _size_key(s.memory)),
    ("target", 9, lambda s, u: format_size(s.target, u), lambda s: _size_key(s.target)),
    ("actual", 9, lambda s, u: format_size(s.actual, u), lambda s: _size_key(s.actual)),
    ("balloon", 9, lambda s, u: format_size(s.balloon_size, u),
     lambda s: _size_key(s.balloon_size)),
    ("avail", 9, lambda s, u: format_size(s.stats.available if s.stats else None, u),
     lambda s: _size_key(s.stats.available if s.stats else None)),
    ("stats", 5, lambda s, u: vm_text.interval_text(s.stats_interval),
     lambda s: s.stats_interval or 0),
    ("condition", 40, lambda s, u: vm_text.condition(s)[0], lambda s: vm_text.condition(s)[1]),
]


class OverviewScreen(Screen[str | None]):
    """The overview table; enter opens the VM's pane, zoomed."""

    CSS_PATH = "overview.tcss"
    BINDINGS = [
        Binding("escape,o", "close", "Back", id="overview-close"),
        Binding("greater_than_sign", "sort(1)", "Sort →", id="sort-next"),
        Binding("less_than_sign", "sort(-1)", "Sort ←", id="sort-previous"),
        Binding("r", "reverse", "Reverse", id="sort-reverse"),
        Binding("slash", "filter", "Filter", id="overview-filter"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sort_column = 0
        self.reverse = False

    @property
    def balloon_app(self) -> BalloonApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter: name or state (stalled, trouble, paused, episode)",
                    id="overview-filter-box", disabled=True)
        yield DataTable(cursor_type="row", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, width, _, _ in COLUMNS:
            table.add_column(label, width=width, key=label)
        self.rebuild()
        table.focus()

    def rebuild(self) -> None:
        """Rows in the chosen order, filtered."""
        table = self.query_one(DataTable)
        text = self.query_one("#overview-filter-box", Input).value
        sessions = [s for s in self.balloon_app.monitor.sessions.values()
                    if matches(s.state, text)]
        sort_key = COLUMNS[self.sort_column][3]
        sessions.sort(key=lambda s: sort_key(s.state), reverse=self.reverse)
        table.clear()
        units = self.balloon_app.units
        for session in sessions:
            table.add_row(*(cell(session.state, units) for _, _, cell, _ in COLUMNS),
                          key=session.key)
        arrow = " ▼" if self.reverse else " ▲"
        for index, (label, _, _, _) in enumerate(COLUMNS):
            column = table.columns[label]  # type: ignore[index]
            column.label = literal(label + (arrow if index == self.sort_column else ""))
        self.sub_title = f"{len(sessions)} VMs"

    def update_rows(self, keys: Iterable[str]) -> None:
        table = self.query_one(DataTable)
        units = self.balloon_app.units
        for key in keys:
            session = self.balloon_app.monitor.sessions.get(key)
            if session is None or key not in table.rows:
                continue
            for label, _, cell, _ in COLUMNS:
                table.update_cell(key, label, cell(session.state, units))

    def action_sort(self, step: int) -> None:
        self.sort_column = (self.sort_column + step) % len(COLUMNS)
        self.rebuild()

    def action_reverse(self) -> None:
        self.reverse = not self.reverse
        self.rebuild()

    def action_filter(self) -> None:
        box = self.query_one("#overview-filter-box", Input)
        box.disabled = False  # disabled while hidden, so that it never takes the keys
        box.add_class("-shown")
        box.focus()

    @on(Input.Changed, "#overview-filter-box")
    def filter_changed(self) -> None:
        self.rebuild()

    @on(Input.Submitted, "#overview-filter-box")
    def filter_done(self) -> None:
        self.query_one(DataTable).focus()

    @on(DataTable.RowSelected)
    def open_vm(self, event: DataTable.RowSelected) -> None:
        self.dismiss(event.row_key.value)  # the app zooms on it once the main screen is back

    def action_close(self) -> None:
        self.dismiss(None)
