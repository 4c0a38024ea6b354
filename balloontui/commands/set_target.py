"""``balloontui set VM SIZE``: set a balloon target and follow it, like ``virsh setmem``.

Exit codes: 0 reached (or sent, with ``--no-wait``); 1 the VM could not be reached or refused;
2 bad arguments or size; 3 not reached in time or stalled; 4 the VM died meanwhile.
"""

from __future__ import annotations

import asyncio
import sys

from balloontui.commands.common import (
    EXIT_DIED,
    EXIT_NOT_REACHED,
    EXIT_OK,
    EXIT_USAGE,
    EXIT_VM_TROUBLE,
    UsageError,
    add_connection_options,
    choose_addresses,
    open_session,
    run_async,
)
from balloontui.core.addresses import VMAddress
from balloontui.core.errors import MonitorError
from balloontui.core.monitor import Monitor
from balloontui.core.recognition import Notice, NoticeKind
from balloontui.core.session import BalloonSession, SessionSettings
from balloontui.core.sizes import EXAMPLES, TARGET_TOLERANCE, SizeError, format_size
from balloontui.core.target_store import TargetStore
from balloontui.core.vm_state import Link


def add_parser(commands) -> None:  # type: ignore[no-untyped-def]
    parser = commands.add_parser(
        "set", help="set a VM's balloon target and wait until actual reaches it",
        description=f"Set a VM's balloon target. SIZE: {EXAMPLES} (K/M/G/T and KiB/MiB/GiB are "
                    "powers of 1024, KB/MB/GB powers of 1000, p = 4 KiB pages, % of the VM's "
                    "memory, +/- relative to the current target).")
    parser.add_argument("vm", metavar="VM", help="socket path, unix:PATH, tcp:HOST:PORT, or the "
                        "name of a VM whose socket is in the usual places")
    parser.add_argument("size", metavar="SIZE")
    parser.add_argument("--no-wait", action="store_true", help="set it and return at once")
    parser.add_argument("--wait-timeout", type=float, default=60.0, metavar="S",
                        help="give up waiting after S seconds (default 60)")
    add_connection_options(parser)
    parser.set_defaults(run=lambda args: run_async(set_target(args)))


async def set_target(args) -> int:  # type: ignore[no-untyped-def]
    settings = SessionSettings(call_timeout=args.timeout, connect_timeout=args.timeout)
    monitor = Monitor(settings=settings, store=TargetStore())
    notices: list[Notice] = []
    monitor.subscribe(on_notice=notices.append)
    session = monitor.add(await _resolve_vm(args.vm, args.shared_socket))
    await monitor.start()
    try:
        await monitor.wait_connected(args.timeout * 2 + 1)
        state = session.state
        if state.link is not Link.CONNECTED:
            return _fail(f"{state.name}: {state.link.value}: {state.link_message}",
                         EXIT_VM_TROUBLE)
        try:
            target = session.parse_target(args.size)
        except SizeError as err:
            return _fail(f"{state.name}: {err}", EXIT_USAGE)
        try:
            target = await session.set_target(target)
        except MonitorError as err:
            return _fail(f"{state.name}: {err}", EXIT_VM_TROUBLE)
        print(f"{state.name}: target {format_size(target)} (actual {format_size(state.actual)},"
              f" memory {format_size(state.memory)})")
        if args.no_wait:
            return EXIT_OK
        return await _follow(session, target, notices, args.wait_timeout)
    finally:
        await monitor.stop(restore=False)


async def _follow(session: BalloonSession, target: int, notices: list[Notice],
                  timeout: float) -> int:
    state = session.state
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    shown = state.actual
    while loop.time() < deadline:
        for notice in notices:
            if notice.kind is NoticeKind.DEATH:
                return _fail(f"{state.name}: {notice.text}", EXIT_DIED)
            if notice.kind in (NoticeKind.STALL, NoticeKind.CHANGED_ELSEWHERE,
                               NoticeKind.EPISODE_START):
                return _fail(f"{state.name}: {notice.text}; actual "
                             f"{format_size(state.actual)}", EXIT_NOT_REACHED)
        notices.clear()
        if state.actual is not None and abs(state.actual - target) <= TARGET_TOLERANCE:
            print(f"{state.name}: reached {format_size(state.actual)}")
            return EXIT_OK
        if state.link is not Link.CONNECTED and state.link is not Link.NOT_RESPONDING:
            return _fail(f"{state.name}: {state.link.value}: {state.link_message}",
                         EXIT_DIED if state.run_state == "shutdown" else EXIT_VM_TROUBLE)
        if state.actual != shown:
            shown = state.actual
            print(f"{state.name}: actual {format_size(shown)}")
        await asyncio.sleep(0.1)
    return _fail(f"{state.name}: not reached after {timeout:g} s; actual "
                 f"{format_size(state.actual)}, target {format_size(target)}", EXIT_NOT_REACHED)


async def _resolve_vm(text: str, shared: bool) -> VMAddress:
    """An address, or the name of a VM among the sockets in the usual places."""
    if any(mark in text for mark in "/:=") or text.endswith((".sock", ".qmp")):
        addresses = choose_addresses([text], shared=shared)
        if len(addresses) > 1:
            raise UsageError(f"{text!r} matches {len(addresses)} VMs; 'set' takes one")
        return addresses[0]
    candidates = choose_addresses([], shared=shared)
    for address in candidates:
        if address.fallback_name == text:
            return address
    # Not a socket's file name: ask each VM for its name (query-name).
    settings = SessionSettings(read_only=True)
    sessions = await asyncio.gather(*(open_session(a, settings) for a in candidates))
    await asyncio.gather(*(s.close(restore=False) for s in sessions))
    for session in sessions:
        if session.state.name == text:
            return session.address
    names = ", ".join(sorted(s.state.name for s in sessions)) or "none"
    raise UsageError(f"no VM named {text!r} in the usual places (found: {names})")


def _fail(message: str, code: int) -> int:
    print(f"balloontui: {message}", file=sys.stderr)
    return code
