"""Where QMP sockets usually are when the operator names none."""

from __future__ import annotations

import glob
import os

from balloontui.core.addresses import VMAddress, parse_address


def runtime_dir() -> str:
    """Our own runtime directory: ``balloontui sim`` serves its sockets here by default."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base:
        return os.path.join(base, "balloontui")
    return f"/tmp/balloontui-{os.getuid()}"


DEFAULT_PATTERNS = (
    # Proxmox VE: one socket per VM, polled by its own tools (shared-socket mode).
    "/var/run/qemu-server/*.qmp",
)


def find_default_addresses() -> list[VMAddress]:
    """The sockets found in the usual places, in a stable order; empty if none."""
    found: list[VMAddress] = []
    for pattern in (os.path.join(runtime_dir(), "*.sock"), *DEFAULT_PATTERNS):
        if glob.glob(pattern):
            found.extend(parse_address(pattern))
    return found
