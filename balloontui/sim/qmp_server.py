"""One VM's QMP monitor on a unix socket, speaking the protocol the way QEMU 7.2 does.

What a client sees, as with a real QEMU: the greeting; capabilities negotiation (before it every
command but ``qmp_capabilities`` gets ``CommandNotFound`` "Expecting capabilities negotiation
with 'qmp_capabilities'", and no events are sent); the ``id`` of a request echoed in its reply;
QEMU's texts for malformed input; replies and events as ``", "``-separated JSON lines ending in
CRLF. Like QEMU, the monitor serves **one client at a time**: a second client's connect succeeds
(it waits in the listen backlog) but it is greeted only when the first one leaves.

The VM behind the monitor is a :class:`CommandHandler`; the server does the protocol and the
faults of :mod:`balloontui.sim.faults`, nothing about balloons.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from balloontui.sim.faults import FaultKind, ReplyFaults, encode
from balloontui.sim.json_stream import JSONStreamSplitter, ParseError
from balloontui.sim.qemu72 import GREETING

log = logging.getLogger(__name__)

LISTEN_BACKLOG = 8
"""Clients that may wait for the monitor (their connect succeeds; they are not greeted yet)."""


class QMPError(Exception):
    """A command failed; ``error_class`` and ``desc`` are exactly what QEMU would say."""

    def __init__(self, error_class: str, desc: str) -> None:
        super().__init__(f"{error_class}: {desc}")
        self.error_class = error_class
        self.desc = desc


@dataclass(frozen=True, slots=True)
class Reply:
    """A command's return value, with something to do once the reply is on its way."""

    value: Any
    after: Callable[[], None] | None = None


class CommandHandler(Protocol):
    """The VM side of a monitor."""

    def execute(self, command: str, arguments: dict[str, Any]) -> Any:
        """Run ``command``; its return value (or a :class:`Reply`), or raise :class:`QMPError`."""

    def record_command(self, command: str | None, arguments: Any, request_id: Any) -> None:
        """Note a request as it arrives, valid or not (``command`` None when there is none)."""


class QMPServer:
    """A listening unix socket at ``path`` that serves ``handler`` to one client at a time."""

    def __init__(self, path: str, handler: CommandHandler, faults: ReplyFaults) -> None:
        self.path = path
        self._handler = handler
        self._faults = faults
        self._listener: socket.socket | None = None
        self._session: _Session | None = None
        self._session_task: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def client_connected(self) -> bool:
        return self._session is not None

    @property
    def negotiated(self) -> bool:
        """A client is connected and past capabilities negotiation (it would get events)."""
        return self._session is not None and self._session.negotiated

    def start(self, *, avoid_inode: int | None = None) -> int:
        """Create the socket file and listen; its inode number, never ``avoid_inode``.

        Clients tell a restarted QEMU by its socket file's new inode, but a filesystem may hand
        a new file the number just freed; then the socket is made anew under another name while
        the first one still holds that number, and renamed into place.
        """
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        listener = _listen(self.path)
        if os.stat(self.path).st_ino == avoid_inode:
            spare = f"{self.path}.{os.getpid()}.new"
            try:
                second = _listen(spare)
                os.rename(spare, self.path)
            finally:
                listener.close()
            listener = second
        listener.setblocking(False)
        self._listener = listener
        self._closing = False
        self._arm()
        return os.stat(self.path).st_ino

    async def close(self) -> None:
        """Stop: end the client's connection (it sees end of stream), remove the socket file."""
        self._closing = True
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(ValueError, RuntimeError):
                asyncio.get_running_loop().remove_reader(listener.fileno())
            listener.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
        session, task = self._session, self._session_task
        if session is not None:
            session.abort()
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def send_event(self, event: dict[str, Any]) -> bool:
        """Send an event to the negotiated client; False if nobody received it."""
        session = self._session
        if session is None or not session.negotiated or self._faults.silent:
            return False
        return session.write(encode(self._faults.render_event(event)))

    def faults_cleared(self) -> None:
        """A hang ended: greet the client that has been waiting for it."""
        session = self._session
        if session is not None and not session.greeted and FaultKind.HANG not in self._faults:
            session.greet()

    def disconnect_client(self) -> None:
        """Drop the current client (the listener stays)."""
        if self._session is not None:
            self._session.abort()

    def _arm(self) -> None:
        """Accept the next client when one connects (only while nobody holds the monitor)."""
        if self._listener is not None and self._session is None and not self._closing:
            asyncio.get_running_loop().add_reader(self._listener.fileno(), self._accept)

    def _accept(self) -> None:
        listener = self._listener
        if listener is None or self._session is not None:
            return
        try:
            conn, _ = listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as err:
            log.warning("%s: accept failed: %s", self.path, err)
            return
        asyncio.get_running_loop().remove_reader(listener.fileno())
        conn.setblocking(False)
        self._session_task = asyncio.get_running_loop().create_task(
            self._serve(conn), name=f"qmp {os.path.basename(self.path)}"
        )

    async def _serve(self, conn: socket.socket) -> None:
        reader, writer = await asyncio.open_unix_connection(sock=conn, limit=1 << 20)
        session = _Session(writer)
        self._session = session
        try:
            await self._converse(session, reader)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            session.abort()
            self._session = None
            self._session_task = None
            self._arm()

    async def _converse(self, session: _Session, reader: asyncio.StreamReader) -> None:
        if FaultKind.HANG not in self._faults:
            session.greet()
        splitter = JSONStreamSplitter()
        while not session.closed:
            data = await reader.read(65536)
            if not data:
                return
            for message in splitter.feed(data):
                if FaultKind.HANG in self._faults or session.closed:
                    self._note(message)
                    continue
                if not session.greeted:
                    session.greet()  # the hang was cleared while this client waited
                await self._answer(session, message)

    async def _answer(self, session: _Session, message: Any) -> None:
        self._note(message)
        if self._faults.silent:
            return  # a stuck QEMU neither runs nor answers what it reads
        reply, after, spare = self._dispatch(session, message)
        delay = self._faults.reply_delay
        if delay:
            await asyncio.sleep(delay)
        if not session.closed and not self._faults.silent:
            data, close = self._faults.render_reply(reply, spare=spare)
            session.write(data)
            if close:
                session.abort()
        if after is not None:
            after()  # the command ran, whether or not its reply got out

    def _note(self, message: Any) -> None:
        if isinstance(message, dict):
            command = message.get("execute", message.get("exec-oob"))
            self._handler.record_command(command if isinstance(command, str) else None,
                                         message.get("arguments"), message.get("id"))
        else:
            self._handler.record_command(None, None, None)

    def _dispatch(self, session: _Session, message: Any
                  ) -> tuple[dict[str, Any], Callable[[], None] | None, bool]:
        """QEMU's ``qmp_dispatch``: (reply, what to do after it, spare it from reply faults)."""
        if isinstance(message, ParseError):
            return _error(None, "GenericError", message.desc), None, False
        if not isinstance(message, dict):
            return _error(None, "GenericError", "QMP input must be a JSON object"), None, False
        request_id = message.get("id")
        has_id = "id" in message
        try:
            command, arguments = _check_request(message)
            if not session.negotiated:
                if command != "qmp_capabilities":
                    raise QMPError("CommandNotFound",
                                   "Expecting capabilities negotiation with 'qmp_capabilities'")
                _check_capabilities(arguments)
                session.negotiated = True
                return _success({}, request_id, has_id), None, True
            if command == "qmp_capabilities":
                raise QMPError("CommandNotFound",
                               "Capabilities negotiation is already complete, command ignored")
            result = self._handler.execute(command, arguments)
        except QMPError as err:
            return _error((request_id,) if has_id else None, err.error_class, err.desc), None, False
        if isinstance(result, Reply):
            return _success(result.value, request_id, has_id), result.after, False
        return _success(result, request_id, has_id), None, False


def _listen(path: str) -> socket.socket:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(path)
        listener.listen(LISTEN_BACKLOG)
    except OSError:
        listener.close()
        raise
    return listener


class _Session:
    """One connected client."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self.negotiated = False
        self.greeted = False
        self.closed = False

    def greet(self) -> None:
        self.greeted = True
        self.write(encode(GREETING))

    def write(self, data: bytes) -> bool:
        if self.closed or self._writer.is_closing():
            return False
        try:
            self._writer.write(data)
        except (ConnectionError, RuntimeError):
            self.abort()
            return False
        return True

    def abort(self) -> None:
        """Close the connection now; the client reads end of stream."""
        if not self.closed:
            self.closed = True
            self._writer.close()


def _check_request(message: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """QEMU's ``qmp_dispatch_check_obj``: the request's members and their types."""
    for key, value in message.items():
        if key in ("execute", "exec-oob"):
            if not isinstance(value, str):
                raise QMPError("GenericError", f"QMP input member '{key}' must be a string")
        elif key == "arguments":
            if not isinstance(value, dict):
                raise QMPError("GenericError", "QMP input member 'arguments' must be an object")
        elif key != "id":
            raise QMPError("GenericError", f"QMP input member '{key}' is unexpected")
    if "execute" in message and "exec-oob" in message:
        raise QMPError("GenericError",
                       "QMP input must not contain both 'execute' and 'exec-oob'")
    if "exec-oob" in message:
        raise QMPError("GenericError",
                       f"The command {message['exec-oob']} does not support OOB")
    if "execute" not in message:
        raise QMPError("GenericError", "QMP input lacks member 'execute'")
    return message["execute"], message.get("arguments", {})


def _check_capabilities(arguments: dict[str, Any]) -> None:
    for key in arguments:
        if key != "enable":
            raise QMPError("GenericError", f"Parameter '{key}' is unexpected")
    enable = arguments.get("enable", [])
    if not isinstance(enable, list):
        raise QMPError("GenericError", "Invalid parameter type for 'enable', expected: array")
    for index, capability in enumerate(enable):
        if capability != "oob":
            raise QMPError("GenericError",
                           f"Parameter 'enable[{index}]' does not accept value '{capability}'")


def _success(value: Any, request_id: Any, has_id: bool) -> dict[str, Any]:
    reply: dict[str, Any] = {"return": {} if value is None else value}
    if has_id:
        reply["id"] = request_id
    return reply


def _error(request_id: tuple[Any] | None, error_class: str, desc: str) -> dict[str, Any]:
    # QEMU puts the id first in error replies and last in successful ones.
    reply: dict[str, Any] = {} if request_id is None else {"id": request_id[0]}
    reply["error"] = {"class": error_class, "desc": desc}
    return reply
