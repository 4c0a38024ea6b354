"""Ways a simulated QEMU can misbehave, switchable per VM while it runs.

Kinds (``ARG`` in brackets, with its default):

- ``hang``: accepts connections but never greets nor answers (a wedged QEMU main loop).
- ``stop-answering``: greets, then answers nothing more and sends no events.
- ``garbage``: every reply is a line that is not JSON.
- ``truncated``: every reply is cut in the middle, then the connection is closed.
- ``wrong-types``: numbers and booleans in replies and event data become strings
  (``{"actual": "536870912"}``).
- ``missing-fields``: object replies and event data come back empty (``query-balloon`` → ``{}``).
- ``huge-reply`` [MiB, 4]: every reply is padded to several MiB (still valid JSON).
- ``slow`` [ms, 2000]: every reply (``qmp_capabilities`` included) is delayed.
- ``kill``: QEMU exits: end of stream, socket file removed, nothing comes back by itself.
- ``restart`` [s, 3]: ``kill``, then a new QEMU (new socket file, fresh boot) on the same path.
- ``no-driver``: the guest's balloon driver goes away (like ``rmmod virtio_balloon``): the
  balloon empties, targets are accepted but actual never moves, no stats. Clearing it loads the
  driver again.
- ``pause`` / ``resume``: the VM stops or continues (``STOP``/``RESUME`` events), as if another
  management client had sent ``stop``/``cont``.

The reply faults (``garbage``, ``truncated``, ``wrong-types``, ``missing-fields``, ``huge-reply``)
spare ``qmp_capabilities`` so that a client gets connected and meets the fault on its first real
command. They stay on until cleared; ``kill``, ``restart``, ``pause`` and ``resume`` are one-off
actions. From tests: ``vm.inject("slow", 500)``, ``vm.clear_fault("slow")``; from the command
line: ``balloontui sim --fault web-01:slow=500``, and at run time through the control socket
(see :mod:`balloontui.sim.command`).
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from balloontui.core.sizes import MiB


class FaultKind(StrEnum):
    """A fault that can be injected into one simulated VM."""

    HANG = "hang"
    STOP_ANSWERING = "stop-answering"
    GARBAGE = "garbage"
    TRUNCATED = "truncated"
    WRONG_TYPES = "wrong-types"
    MISSING_FIELDS = "missing-fields"
    HUGE_REPLY = "huge-reply"
    SLOW = "slow"
    KILL = "kill"
    RESTART = "restart"
    NO_DRIVER = "no-driver"
    PAUSE = "pause"
    RESUME = "resume"


ONE_OFF = frozenset({FaultKind.KILL, FaultKind.RESTART, FaultKind.PAUSE, FaultKind.RESUME})
"""Kinds that are actions, not lasting states."""

DEFAULT_ARGS: dict[FaultKind, float] = {
    FaultKind.HUGE_REPLY: 4,
    FaultKind.SLOW: 2000,
    FaultKind.RESTART: 3,
}

GARBAGE_LINE = b"garbled monitor output -- this is not JSON\r\n"


class FaultError(ValueError):
    """A fault specification we do not understand."""


def parse_fault_kind(text: str) -> FaultKind:
    try:
        return FaultKind(text.strip().lower())
    except ValueError:
        kinds = ", ".join(kind.value for kind in FaultKind)
        raise FaultError(f"unknown fault {text!r}; known: {kinds}") from None


def parse_fault_spec(text: str) -> tuple[str, FaultKind, float | None]:
    """``NAME:KIND`` or ``NAME:KIND=ARG`` → (VM name, kind, argument or None)."""
    name, sep, rest = text.partition(":")
    if not sep or not name or not rest:
        raise FaultError(f"{text!r}: expected NAME:KIND or NAME:KIND=ARG (e.g. web-01:slow=500)")
    kind_text, _, arg_text = rest.partition("=")
    kind = parse_fault_kind(kind_text)
    return name, kind, parse_fault_arg(arg_text) if arg_text else None


def parse_fault_arg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise FaultError(f"{text!r} is not a number") from None
    if value < 0:
        raise FaultError(f"{text!r}: must not be negative")
    return value


class ReplyFaults:
    """The lasting faults of one VM's monitor, and what they do to its output."""

    def __init__(self) -> None:
        self.active: dict[FaultKind, float | None] = {}

    def set(self, kind: FaultKind, arg: float | None = None) -> None:
        self.active[kind] = DEFAULT_ARGS.get(kind) if arg is None else arg

    def clear(self, kind: FaultKind | None = None) -> None:
        if kind is None:
            self.active.clear()
        else:
            self.active.pop(kind, None)

    def __contains__(self, kind: object) -> bool:
        return kind in self.active

    @property
    def silent(self) -> bool:
        """Nothing at all goes out: no replies, no events."""
        return FaultKind.HANG in self.active or FaultKind.STOP_ANSWERING in self.active

    @property
    def reply_delay(self) -> float:
        """Seconds to wait before each reply."""
        delay = self.active.get(FaultKind.SLOW)
        return (delay or 0) / 1000

    def render_reply(self, reply: dict[str, Any], *, spare: bool) -> tuple[bytes, bool]:
        """The bytes to send for ``reply``, and whether to close the connection after them.

        ``spare`` (for ``qmp_capabilities``) leaves the reply alone.
        """
        if spare or not self.active:
            return encode(reply), False
        if FaultKind.GARBAGE in self.active:
            return GARBAGE_LINE, False
        if "return" in reply:
            value = reply["return"]
            if FaultKind.MISSING_FIELDS in self.active:
                value = _emptied(value)
            if FaultKind.WRONG_TYPES in self.active:
                value = _stringified(value)
            if FaultKind.HUGE_REPLY in self.active:
                value = _padded(value, int((self.active[FaultKind.HUGE_REPLY] or 4) * MiB))
            reply = {**reply, "return": value}
        data = encode(reply)
        if FaultKind.TRUNCATED in self.active:
            return data[: max(1, len(data) // 2)], True
        return data, False

    def render_event(self, event: dict[str, Any]) -> dict[str, Any]:
        """``event`` as this monitor sends it (its data emptied or stringified)."""
        if "data" not in event:
            return event
        data = event["data"]
        if FaultKind.MISSING_FIELDS in self.active:
            data = {}
        if FaultKind.WRONG_TYPES in self.active:
            data = _stringified(data)
        return {**event, "data": data}


def encode(message: Any) -> bytes:
    """One QMP message as QEMU writes it: ``", "``/``": "`` separators, ASCII, CRLF."""
    return json.dumps(message).encode() + b"\r\n"


def _emptied(value: Any) -> Any:
    if isinstance(value, dict):
        return {}
    if isinstance(value, list):
        return []
    return value


def _stringified(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        return {key: _stringified(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_stringified(item) for item in value]
    return value


def _padded(value: Any, size: int) -> Any:
    padding = "x" * size
    if isinstance(value, dict):
        return {**value, "x-padding": padding}
    if isinstance(value, list):
        return [*value, {"name": "x-padding", "type": padding}]
    return padding
