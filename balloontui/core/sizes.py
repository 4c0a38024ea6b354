"""Memory sizes as operators type them, and as we show them.

Units follow virsh: ``K``/``KiB``, ``M``/``MiB``, ``G``/``GiB``, ``T``/``TiB`` are powers of 1024,
``KB``/``MB``/``GB``/``TB`` powers of 1000; a plain number is bytes; ``p``/``pages`` counts the
balloon's 4 KiB pages; ``%`` is a share of the VM's memory. A leading ``+`` or ``-`` makes the size
relative to the current target.
"""

from __future__ import annotations

import math
import re
from enum import Enum

PAGE_SIZE = 4096
"""The virtio balloon works in 4 KiB pages, whatever the guest's page size."""

TARGET_TOLERANCE = PAGE_SIZE - 1
"""``actual`` within this of a target has reached it (both are whole pages below memory)."""

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
TiB = 1024 * GiB

_UNITS: dict[str, int] = {
    "": 1,
    "b": 1,
    "byte": 1,
    "bytes": 1,
    "k": KiB,
    "kib": KiB,
    "kb": 1000,
    "m": MiB,
    "mib": MiB,
    "mb": 1000**2,
    "g": GiB,
    "gib": GiB,
    "gb": 1000**3,
    "t": TiB,
    "tib": TiB,
    "tb": 1000**4,
    "p": PAGE_SIZE,
    "page": PAGE_SIZE,
    "pages": PAGE_SIZE,
}

_SIZE_RE = re.compile(
    r"^(?P<sign>[+-])?\s*(?P<number>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>[a-z]*|%)$"
)

# No VM has anywhere near this much memory; beyond it a number is a typo, not a size.
_LARGEST_SANE = 1 << 60


class SizeError(ValueError):
    """Text that is not a size we understand, or a size that cannot be a target.

    The message says what was wrong and what would have been accepted.
    """


class Units(Enum):
    """How sizes are shown: human units of bytes, or 4 KiB balloon pages."""

    BYTES = "bytes"
    PAGES = "pages"


EXAMPLES = "2G, 1536M, 1.5GiB, 75%, +256M, -10%, 131072p"


def parse_size(text: str, *, memory: int | None = None, current: int | None = None) -> int:
    """Parse ``text`` into a number of bytes.

    ``memory`` (the VM's memory) is needed for percentages, ``current`` (the size that a relative
    ``+``/``-`` size moves from) for relative sizes. The result may be any integer; see
    :func:`resolve_target` for a size that must be a valid balloon target.
    """
    if not isinstance(text, str):
        raise SizeError(f"expected a size as text, got {type(text).__name__}")
    cleaned = text.strip().lower().replace("_", "")
    if not cleaned:
        raise SizeError(f"no size given; try for example {EXAMPLES}")
    match = _SIZE_RE.match(cleaned)
    if match is None:
        raise SizeError(f"{_quote(text)} is not a size; try for example {EXAMPLES}")
    unit = match["unit"]
    if unit not in _UNITS and unit != "%":
        raise SizeError(
            f"unknown unit {_quote(unit)} in {_quote(text)}; "
            "use B, K/KiB, M/MiB, G/GiB, T/TiB (powers of 1024), KB/MB/GB/TB (powers of 1000), "
            "p (4 KiB pages) or %"
        )
    number = float(match["number"])
    if unit == "%":
        if memory is None:
            raise SizeError(f"{_quote(text)} is a share of the VM's memory, which is not known yet")
        amount = number / 100 * memory
    else:
        amount = number * _UNITS[unit]
    if not math.isfinite(amount) or amount > _LARGEST_SANE:
        raise SizeError(f"{_quote(text)} is far larger than any VM's memory")
    amount_bytes = round(amount)
    sign = match["sign"]
    if sign is None:
        return amount_bytes
    if current is None:
        raise SizeError(f"{_quote(text)} is relative, but there is no current size to move from")
    return current + amount_bytes if sign == "+" else current - amount_bytes


def resolve_target(text: str, *, memory: int, current: int | None = None) -> int:
    """Parse ``text`` as a balloon target for a VM with ``memory`` bytes.

    Absolute targets must lie in (0, memory]. Relative steps (``+256M``, ``-10%``) are clamped to
    the VM's memory at the top, since "grow a bit more" at the top means "all of it"; below a
    mebibyte they are refused. The result is rounded the way QEMU rounds it: the balloon holds
    whole 4 KiB pages, so the target QEMU reaches is memory minus a whole number of pages.
    """
    target = parse_size(text, memory=memory, current=current)
    relative = text.strip()[:1] in "+-"
    if relative and target > memory:
        target = memory
    if target > memory:
        raise SizeError(
            f"{format_size(target)} is more than the VM's memory ({format_size(memory)}); "
            "the largest target is 100%"
        )
    if target < MiB:
        raise SizeError(
            f"{_quote(text)} gives {format_size(max(target, 0))}: a target must be at least 1 MiB"
            + (" (QEMU refuses 0)" if target == 0 else "")
        )
    return align_target(target, memory)


def align_target(target: int, memory: int) -> int:
    """The ``actual`` that QEMU reaches for ``target``: memory minus whole balloon pages."""
    balloon_pages = max(0, memory - target) // PAGE_SIZE
    return memory - balloon_pages * PAGE_SIZE


def format_size(value: int | None, units: Units = Units.BYTES, *, compact: bool = False) -> str:
    """Show ``value`` bytes: ``512 MiB``, ``1.50 GiB``, ``131072 p``; ``–`` if unknown.

    ``compact`` drops the space and the ``iB`` for dense displays: ``512M``, ``1.50G``, ``131072p``.
    """
    if value is None:
        return "–"
    if units is Units.PAGES:
        return f"{value // PAGE_SIZE}{'p' if compact else ' p'}"
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    for unit_name, unit in (("TiB", TiB), ("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if magnitude >= unit:
            scaled = magnitude / unit
            if scaled >= 100 or scaled == int(scaled):
                number = f"{scaled:.0f}"
            elif scaled >= 10:
                number = f"{scaled:.1f}"
            else:
                number = f"{scaled:.2f}"
            return f"{sign}{number}{unit_name[0]}" if compact else f"{sign}{number} {unit_name}"
    if compact:
        return f"{sign}{magnitude}" if magnitude else "0"
    return f"{sign}{magnitude} B"


def _quote(text: str) -> str:
    """Quote user text for a message, showing control characters escaped, never raw."""
    return repr(text if len(text) <= 40 else text[:37] + "...")
