"""The one small interface between a VM session and whatever carries QMP to it.

Direct QMP over a unix or TCP socket is :class:`~balloontui.core.qmp_transport.QMPTransport`;
libvirt (where libvirtd owns the monitor) and QMP over SSH can stand beside it later.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from balloontui.core.errors import MonitorError


@dataclass(frozen=True, slots=True)
class QMPEvent:
    """One asynchronous event from QEMU, with QEMU's own timestamp (host wall-clock seconds)."""

    name: str
    data: dict[str, Any]
    timestamp: float


EventHandler = Callable[[QMPEvent], None]
LostHandler = Callable[[MonitorError], None]


class Transport(ABC):
    """One connection to one VM's monitor.

    ``open`` connects and negotiates; events then go to ``on_event`` as they arrive, in order, and
    ``on_lost`` is called once if the connection ends by itself. ``execute`` never waits longer
    than its timeout. A transport is used for one connection: make a new one to reconnect.
    """

    @abstractmethod
    async def open(self, on_event: EventHandler, on_lost: LostHandler, timeout: float) -> None:
        """Connect and negotiate; raises :class:`Unreachable`, :class:`MonitorBusy`, ..."""

    @abstractmethod
    async def execute(self, command: str, arguments: dict[str, Any] | None = None,
                      *, timeout: float) -> Any:
        """Run one command; its ``return`` value, or raises a :class:`MonitorError`."""

    @abstractmethod
    async def close(self) -> None:
        """End the connection; never raises, never hangs."""

    @property
    @abstractmethod
    def instance(self) -> tuple[object, ...] | None:
        """What identifies this QEMU process, so that a restart is noticed; None if unknown."""

    @property
    @abstractmethod
    def qemu_version(self) -> str | None:
        """QEMU's version from its greeting, e.g. ``7.2.22``."""
