"""Themes: every shipped theme applies, and the plots take their colours from its bt-* variables."""

from __future__ import annotations

import pytest
from rich.color import Color as RichColor
from rich.color import ColorType
from rich.text import Text
from textual.color import Color

from balloontui.core.sizes import GiB, MiB
from balloontui.sim.vm import VMSpec
from balloontui.ui.balloon_plot import BalloonPlot
from balloontui.ui.themes import load_theme_file, shipped_theme_dir
from tests.ui.conftest import operating

SHIPPED = [load_theme_file(path) for path in sorted(shipped_theme_dir().glob("*.toml"))]


def as_drawn(colour: Color) -> tuple[str, object]:
    """How a theme colour should reach the terminal: an ANSI colour as its number (so the
    terminal's own palette shows it), any other as RGB."""
    if colour.ansi is not None:
        return ("ansi", colour.ansi)
    return ("rgb", colour.rgb)


def drawn(colour: RichColor | None) -> tuple[str, object] | None:
    if colour is None or colour.type is ColorType.DEFAULT:
        return None
    if colour.type is ColorType.STANDARD or (colour.number is not None and colour.number < 16):
        return ("ansi", colour.number)
    return ("rgb", tuple(colour.get_truecolor()))


def plot_colours(plot: BalloonPlot) -> set[tuple[str, object]]:
    """Every foreground and background colour in what the plot draws."""
    found = set()
    rendered = plot.render()
    assert isinstance(rendered, Text)
    for span in rendered.spans:
        style = span.style
        if not isinstance(style, str):
            found |= {drawn(style.color), drawn(style.bgcolor)} - {None}
    return found


@pytest.fixture(params=SHIPPED, ids=lambda theme: theme.name)
def theme(request):
    return request.param


async def test_plot_colours_follow_the_theme(tmp_path, theme):
    async with operating(tmp_path, [VMSpec("web-01", memory=GiB)], step="512M") as op:
        pane = await op.focus("web-01")
        await op.press("minus")
        await op.until(lambda: op.session("web-01").state.actual == 512 * MiB,
                       "the balloon to reach 512 MiB")
        op.app.theme = theme.name
        plot = pane.query_one(BalloonPlot)
        wanted = {as_drawn(Color.parse(theme.variables[name]))
                  for name in ("bt-actual", "bt-available")}
        await op.until(lambda: wanted <= plot_colours(plot),
                       f"the plot in {theme.name}'s colours {wanted}")
        assert op.app.current_theme.name == theme.name
        if theme.ansi:  # the terminal's own colours only: no RGB that ignores its palette
            assert {kind for kind, _ in plot_colours(plot)} == {"ansi"}, plot_colours(plot)
