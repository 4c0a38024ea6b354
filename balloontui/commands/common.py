"""What the headless commands share: choosing VMs, one-shot sessions, exit codes."""

from __future__ import annotations

import asyncio
import sys

from balloontui.core.addresses import AddressError, VMAddress, parse_addresses
from balloontui.core.default_sockets import find_default_addresses, runtime_dir
from balloontui.core.session import BalloonSession, SessionSettings
from balloontui.core.target_store import TargetStore

EXIT_OK = 0
EXIT_VM_TROUBLE = 1
EXIT_USAGE = 2
EXIT_NOT_REACHED = 3
EXIT_DIED = 4


class UsageError(Exception):
    """Arguments we cannot act on; exit code 2 with the message."""


def choose_addresses(texts: list[str], shared: bool = False) -> list[VMAddress]:
    """The VMs named on the command line, or those in the usual places."""
    try:
        if texts:
            return parse_addresses(texts, shared=shared)
    except AddressError as err:
        raise UsageError(str(err)) from None
    found = find_default_addresses()
    if not found:
        raise UsageError(
            "no VM given and no QMP socket found in the usual places "
            f"({runtime_dir()}/*.sock, /var/run/qemu-server/*.qmp); "
            "name one, e.g. 'balloontui stat /run/vms/web.sock', or start the simulator: "
            "'balloontui sim --vms 3'"
        )
    return found


async def open_session(address: VMAddress, settings: SessionSettings) -> BalloonSession:
    """A session that has made its first connection attempt (check ``state.link``)."""
    session = BalloonSession(address, settings=settings, store=TargetStore())
    await session.step()
    return session


def add_connection_options(parser) -> None:  # type: ignore[no-untyped-def]
    parser.add_argument("--timeout", type=float, default=3.0,
                        help="seconds to wait for each QMP answer (default 3)")
    parser.add_argument("--shared-socket", action="store_true",
                        help="connect only for each query, leaving the socket free for others "
                             "(always on for Proxmox's /var/run/qemu-server)")


def run_async(coro) -> int:  # type: ignore[no-untyped-def]
    try:
        return asyncio.run(coro)
    except UsageError as err:
        print(f"balloontui: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
