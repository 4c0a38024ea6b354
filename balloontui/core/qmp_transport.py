"""Direct QMP to a unix or TCP socket, through ``qemu.qmp``.

``qemu.qmp`` does the protocol; this adds what it leaves to us: a timeout on every step, errors
an operator can read, events delivered at once (nothing queued or remembered inside the client,
so a long-running monitor does not grow), and the identity of the QEMU process behind a unix
socket, so that a restarted QEMU is told apart from a reconnect to the same one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import stat
import struct
from typing import Any

from qemu.qmp import ConnectError, EventListener, ExecInterruptedError, ExecuteError, QMPClient
from qemu.qmp.error import ProtocolError, QMPError
from qemu.qmp.message import Message
from qemu.qmp.protocol import Runstate, StateError

from balloontui.core.addresses import VMAddress
from balloontui.core.errors import (
    CommandFailed,
    ConnectionLost,
    MonitorBusy,
    MonitorError,
    NotResponding,
    ProtocolFault,
    Unreachable,
)
from balloontui.core.transport import EventHandler, LostHandler, QMPEvent, Transport

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 1 << 20
"""The largest QMP message we accept; real balloon replies are a few KiB."""


class _EventSink(EventListener):
    """Hands each event straight to a callback: no queue, no history to grow."""

    def __init__(self, handler: EventHandler, on_malformed: LostHandler) -> None:
        super().__init__()
        self._handler = handler
        self._on_malformed = on_malformed

    async def put(self, event: Message) -> None:
        try:
            parsed = _parse_event(event)
        except ProtocolFault as fault:
            self._on_malformed(fault)
            return
        self._handler(parsed)


class _QuietClient(QMPClient):
    """qemu.qmp renders every message as indented JSON for its debug log even when that log is
    off: a third of the CPU of a query. Its message hooks are meant for subclasses; ours pass
    messages through untouched and leave the rendering to when debug logging is on."""

    def _cb_outbound(self, msg: Message) -> Message:
        if self.logger.isEnabledFor(logging.DEBUG):
            return super()._cb_outbound(msg)
        return msg

    def _cb_inbound(self, msg: Message) -> Message:
        if self.logger.isEnabledFor(logging.DEBUG):
            return super()._cb_inbound(msg)
        return msg


class QMPTransport(Transport):
    """QMP straight to a VM's monitor socket."""

    def __init__(self, address: VMAddress) -> None:
        self.address = address
        self._client: QMPClient | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._instance: tuple[object, ...] | None = None
        self._closing = False
        self._lost_reported = False
        self._on_lost: LostHandler | None = None
        self._ended_by: MonitorError | None = None

    @property
    def instance(self) -> tuple[object, ...] | None:
        return self._instance

    @property
    def qemu_version(self) -> str | None:
        greeting = self._client.greeting if self._client else None
        if greeting is None:
            return None
        version = greeting.QMP.version
        qemu = version.get("qemu") if isinstance(version, dict) else None
        if not isinstance(qemu, dict):
            return None
        return f"{qemu.get('major')}.{qemu.get('minor')}.{qemu.get('micro')}"

    async def open(self, on_event: EventHandler, on_lost: LostHandler, timeout: float) -> None:
        self._on_lost = on_lost
        sock = await self._connect_socket(timeout)
        self._instance = _identify(sock, self.address)
        client = _QuietClient(str(self.address), readbuflen=MAX_MESSAGE_BYTES)
        # The default listener (which cannot be removed) would keep every event forever: let it
        # accept none. Ours hands them on and keeps none.
        client.events.event_filter = _refuse_all
        client.register_listener(_EventSink(on_event, self._report_malformed))
        self._client = client
        try:
            await asyncio.wait_for(client.connect(sock), timeout)
        except TimeoutError:
            await self._abandon(sock)
            raise MonitorBusy(
                f"{self.address}: QEMU accepted the connection but did not greet within "
                f"{timeout:g} s; another client probably holds this monitor (QEMU serves one "
                "at a time)"
            ) from None
        except ConnectError as err:
            await self._abandon(sock)
            raise _describe_connect_error(self.address, err.exc) from err
        except BaseException:
            await self._abandon(sock)
            raise
        self._watcher = asyncio.create_task(self._watch(client), name=f"watch {self.address}")

    async def execute(self, command: str, arguments: dict[str, Any] | None = None,
                      *, timeout: float) -> Any:
        client = self._client
        if client is None or client.runstate != Runstate.RUNNING:
            raise ConnectionLost(f"{self.address}: not connected")
        try:
            # asyncio.timeout, not wait_for: no extra task per call (Python 3.11).
            async with asyncio.timeout(timeout):
                return await client.execute(command, arguments)
        except ExecuteError as err:
            raise CommandFailed(command, err.error_class, err.error.error.desc) from None
        except TimeoutError:
            raise NotResponding(
                f"{self.address}: no answer to {command} within {timeout:g} s"
            ) from None
        except (ExecInterruptedError, StateError, EOFError, ConnectionError) as err:
            # The reader may have stopped on a bad message (not JSON, cut short, too large):
            # then that is what went wrong, not the disconnection it caused.
            cause = await self._end_cause()
            if isinstance(cause, ProtocolFault):
                raise cause from err
            raise ConnectionLost(f"{self.address}: connection lost during {command}") from err
        except (ProtocolError, QMPError, ValueError, TypeError) as err:
            raise ProtocolFault(f"{self.address}: {command}: {err}") from err

    async def close(self) -> None:
        self._closing = True
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.cancel()
        client, self._client = self._client, None
        if client is not None:
            await _disconnect_quietly(client)

    async def _connect_socket(self, timeout: float) -> socket.socket:
        loop = asyncio.get_running_loop()
        if self.address.path is not None:
            path = self.address.path
            try:
                mode = os.stat(path).st_mode
            except FileNotFoundError:
                raise Unreachable(f"no socket at {path} (is the VM running?)") from None
            except PermissionError:
                raise Unreachable(f"permission denied reaching {path}") from None
            except OSError as err:
                raise Unreachable(f"cannot reach {path}: {err.strerror}") from None
            if not stat.S_ISSOCK(mode):
                raise Unreachable(f"{path} is not a socket")
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            target: Any = path
        else:
            family = socket.AF_INET6 if ":" in (self.address.host or "") else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            target = (self.address.host, self.address.port)
        sock.setblocking(False)
        try:
            await asyncio.wait_for(loop.sock_connect(sock, target), timeout)
        except TimeoutError:
            sock.close()
            raise Unreachable(f"{self.address}: no answer within {timeout:g} s") from None
        except ConnectionRefusedError:
            sock.close()
            hint = (" (QEMU exited and left its socket file?)" if self.address.is_unix
                    else "")
            raise Unreachable(f"{self.address}: connection refused{hint}") from None
        except PermissionError:
            sock.close()
            raise Unreachable(
                f"{self.address}: permission denied (run as root or as QEMU's user)"
            ) from None
        except OSError as err:
            sock.close()
            raise Unreachable(f"{self.address}: {err.strerror or err}") from None
        return sock

    async def _abandon(self, sock: socket.socket) -> None:
        client, self._client = self._client, None
        if client is not None:
            await _disconnect_quietly(client)
        sock.close()

    async def _watch(self, client: QMPClient) -> None:
        """Wait for the connection to end by itself, then say why, once."""
        while client.runstate == Runstate.RUNNING:
            await client.runstate_changed()
        if self._closing:
            return
        cause: MonitorError
        try:
            await asyncio.wait_for(client.disconnect(), 2.0)
            cause = ConnectionLost(f"{self.address}: the monitor connection closed")
        except EOFError:
            cause = ConnectionLost(f"{self.address}: QEMU closed the monitor (quit or crashed)")
        except TimeoutError:
            cause = ConnectionLost(f"{self.address}: the connection did not close cleanly")
        except (asyncio.LimitOverrunError, ValueError) as err:
            cause = ProtocolFault(f"{self.address}: a message larger than "
                                  f"{MAX_MESSAGE_BYTES} bytes ({err})")
        except (ProtocolError, QMPError) as err:
            # qemu.qmp adds the raw bytes on further lines; the first says what was wrong.
            what = (str(err).splitlines() or [repr(err)])[0]
            cause = ProtocolFault(f"{self.address}: invalid QMP from QEMU: {what}")
        except OSError as err:
            cause = ConnectionLost(f"{self.address}: {err.strerror or err}")
        except Exception as err:  # anything else from the reader: still only this VM's problem
            cause = ProtocolFault(f"{self.address}: {type(err).__name__}: {err}")
        self._ended_by = cause
        self._report_lost(cause)

    async def _end_cause(self) -> MonitorError | None:
        """Why the connection ended by itself, once the watcher has found out (briefly waited
        for: it takes the reader's error from qemu.qmp's disconnect)."""
        watcher = self._watcher
        if watcher is not None and not watcher.done():
            await asyncio.wait({watcher}, timeout=2.5)
        return self._ended_by

    def _report_malformed(self, fault: ProtocolFault) -> None:
        """A malformed event: the stream can no longer be trusted; drop the connection."""
        self._report_lost(ProtocolFault(f"{self.address}: {fault}"))
        client = self._client
        if client is not None and client.runstate == Runstate.RUNNING:
            asyncio.get_running_loop().create_task(_disconnect_quietly(client))

    def _report_lost(self, cause: MonitorError) -> None:
        if self._lost_reported or self._closing or self._on_lost is None:
            return
        self._lost_reported = True
        self._on_lost(cause)


def _refuse_all(_event: Message) -> bool:
    return False


def _parse_event(message: Message) -> QMPEvent:
    name = message.get("event")
    data = message.get("data", {})
    stamp = message.get("timestamp")
    if not isinstance(name, str) or not isinstance(data, dict) or not isinstance(stamp, dict):
        raise ProtocolFault(f"malformed event: {str(message)[:200]}")
    seconds, micros = stamp.get("seconds"), stamp.get("microseconds")
    if not isinstance(seconds, int) or not isinstance(micros, int):
        raise ProtocolFault(f"malformed event timestamp: {str(stamp)[:200]}")
    return QMPEvent(name, data, seconds + micros / 1e6)


def _describe_connect_error(address: VMAddress, exc: BaseException) -> MonitorError:
    if isinstance(exc, EOFError):
        return ConnectionLost(f"{address}: QEMU closed the connection before greeting")
    if isinstance(exc, OSError):
        return Unreachable(f"{address}: {exc.strerror or exc}")
    return ProtocolFault(f"{address}: not a QMP monitor ({exc})")


async def _disconnect_quietly(client: QMPClient) -> None:
    try:
        await asyncio.wait_for(client.disconnect(), 1.0)
    except (Exception, asyncio.CancelledError):  # closing: nothing left to report
        pass


def _identify(sock: socket.socket, address: VMAddress) -> tuple[object, ...] | None:
    """The socket file's inode and the peer process (pid and start time), for unix sockets.

    QEMU makes its socket file anew each time it starts, and a new process has a new pid or start
    time, so a change in either means a new QEMU, whose balloon starts empty.
    """
    if address.path is None:
        return None
    try:
        st = os.stat(address.path)
        inode: tuple[object, ...] = (st.st_dev, st.st_ino)
    except OSError:
        inode = ()
    pid = start = None
    try:
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        pid = struct.unpack("3i", creds)[0]
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            # Field 22 is the start time; the command name (field 2) may hold spaces.
            start = int(stat_file.read().rsplit(b")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    return (*inode, pid, start)
