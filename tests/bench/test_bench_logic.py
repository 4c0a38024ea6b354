"""The benchmark's own reasoning: reading panes off a screen, and the sparse day of history."""

from __future__ import annotations

import random

from balloontui.bench.memory import _Guest, _same_as_every_second, schedule
from balloontui.bench.screen import find_panes, full_frame, shows_actual, shows_pages
from balloontui.core.history import VMHistory
from balloontui.core.sizes import GiB

def _box(title: str, rows: list[str], bottom: str = "", width: int = 44) -> list[str]:
    inner = width - 2
    top = f"╭─ {title} ".ljust(width - 1, "─") + "╮"
    body = [f"│ {row}".ljust(width - 1) + "│" for row in rows]
    return [top, *body, (f"╰─ {bottom} " if bottom else "╰").ljust(inner + 1, "─") + "╯"]


WEB = _box("web-01  running  DoOM ✗  stats 1s", [
    "┌──────┐", "└──────┘", "mem 2G  target –  actual 1.94G  balloon 64M",
    "avail 1.35G  free 1.11G  cache 254M"], width=48)
DB = _box("db-01  running", ["┌──────┐", "└──────┘", "mem 8G  target –  actual –  balloon –",
                             "guest stats: –"], "no balloon device: nothing to steer", width=48)
CACHE = _box("cache-01  connecting…", ["┌──────┐"], width=48)[:2]
SCREEN = [" balloontui  3 VMs · 10 GiB memory",
          *(left + " " + right for left, right in zip(WEB, DB)),
          *CACHE, " ? Help  + Grow  q Quit"]


def test_panes_are_read_with_their_numbers():
    panes = find_panes(SCREEN)
    assert [p.name for p in panes] == ["web-01", "db-01", "cache-01"]
    web, db, cache = panes
    assert web.figures() == {"mem": "2G", "target": "–", "actual": "1.94G", "balloon": "64M"}
    assert web.complete and db.complete and db.has_no_balloon
    assert not cache.numbers_visible
    assert full_frame(SCREEN)
    assert shows_actual("web-01", "1.94G")(SCREEN)
    assert not shows_actual("web-01", "2G")(SCREEN)
    assert shows_pages("web-01", False)(SCREEN)


def test_a_pane_still_connecting_is_not_a_full_frame():
    connecting = [line.replace("actual 1.94G", "actual –    ") for line in SCREEN]
    assert not full_frame(connecting)


def test_the_sparse_fill_leaves_the_history_as_every_second_would():
    readings = [7200, 7200 + 3600]
    assert _same_as_every_second(readings, seed=3)
    kept = list(schedule(readings))
    assert len(kept) < (readings[-1]) / 5
    guest = _Guest(2 * GiB, random.Random(1))
    history = VMHistory()
    for t in kept:
        history.record(t, *guest.sample(t))
    assert history.last_time == readings[-1] - 1
