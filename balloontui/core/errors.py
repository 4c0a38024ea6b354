"""What can go wrong between us and a VM's monitor, in words an operator can act on.

Every error carries a short ``summary`` (what the VM's pane shows: "unreachable", "not
responding", ...) and a message with the detail.
"""

from __future__ import annotations


class MonitorError(Exception):
    """Base of every problem with one VM's monitor; never fatal to the program."""

    summary = "error"


class Unreachable(MonitorError):
    """We could not open the monitor: no socket, refused, permission denied, not a socket."""

    summary = "unreachable"


class MonitorBusy(Unreachable):
    """The socket accepted us but QEMU never greeted: another client holds the monitor."""

    summary = "monitor busy"


class NotResponding(MonitorError):
    """A command got no answer within the timeout: QEMU is hung or overloaded."""

    summary = "not responding"


class ConnectionLost(MonitorError):
    """The monitor connection ended (QEMU quit, crashed or closed it)."""

    summary = "disconnected"


class ProtocolFault(MonitorError):
    """QEMU sent something that is not valid QMP, or a reply of the wrong shape or type."""

    summary = "protocol error"


class CommandFailed(MonitorError):
    """QEMU answered a command with an error; ``error_class`` and ``desc`` are QEMU's own."""

    summary = "command failed"

    def __init__(self, command: str, error_class: str, desc: str) -> None:
        super().__init__(f"{command}: {desc} ({error_class})")
        self.command = command
        self.error_class = error_class
        self.desc = desc


class NoBalloon(MonitorError):
    """The VM has no (active) balloon device: there is nothing to steer."""

    summary = "no balloon"


class Refused(MonitorError):
    """We will not send this command: read-only mode, or nothing to steer."""

    summary = "refused"
