"""Where VMs' QMP monitors listen, as operators write it.

Forms: ``/path/x.sock`` (or any path), ``unix:/path``, ``tcp:HOST:PORT`` (``tcp:[::1]:4444``),
``NAME=ADDRESS`` to give the VM a display name, and shell globs (``/run/vms/*.sock``).
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

# Proxmox VE serves each VM's monitor here and polls it itself (pvestatd, qm): we must not hold it.
SHARED_SOCKET_DIRS = ("/var/run/qemu-server/", "/run/qemu-server/")


class AddressError(ValueError):
    """Text that is not a QMP address, or a glob that matches nothing."""


@dataclass(frozen=True)
class VMAddress:
    """Where one VM's QMP monitor listens, and how we may use it."""

    path: str | None = None
    host: str | None = None
    port: int | None = None
    name: str | None = None
    """Display name given by the operator (``NAME=ADDRESS``), if any."""
    shared: bool = False
    """Shared-socket mode: connect, query and disconnect each cycle, never hold the socket."""

    @property
    def is_unix(self) -> bool:
        return self.path is not None

    @property
    def endpoint(self) -> str | tuple[str, int]:
        """What ``qemu.qmp`` connects to: a socket path, or (host, port)."""
        if self.path is not None:
            return self.path
        assert self.host is not None and self.port is not None
        return (self.host, self.port)

    @property
    def fallback_name(self) -> str:
        """A name when neither the operator nor QEMU gave one: the socket file's stem."""
        if self.path is not None:
            return Path(self.path).stem or self.path
        return f"{self.host}:{self.port}"

    def __str__(self) -> str:
        if self.path is not None:
            return f"unix:{self.path}"
        host = f"[{self.host}]" if self.host and ":" in self.host else self.host
        return f"tcp:{host}:{self.port}"


def parse_address(text: str, *, shared: bool = False) -> list[VMAddress]:
    """Parse one address argument; a glob gives every socket it matches, sorted.

    ``shared`` asks for shared-socket mode; sockets under Proxmox's ``/run/qemu-server`` always
    get it.
    """
    original = text
    text = text.strip()
    if not text:
        raise AddressError("empty address")
    name: str | None = None
    if not text.startswith(("/", ".", "unix:", "tcp:", "~")) and "=" in text:
        name, _, text = text.partition("=")
        if not name.strip():
            raise AddressError(f"{original!r}: the name before '=' is empty")
        name = name.strip()
        if not text:
            raise AddressError(f"{original!r}: no address after '='")
    if text.startswith("tcp:"):
        return [VMAddress(host=_host(text, original), port=_port(text, original), name=name,
                          shared=shared)]
    path = text.removeprefix("unix:")
    if not path:
        raise AddressError(f"{original!r}: no socket path after 'unix:'")
    path = os.path.expanduser(path)
    if glob.has_magic(path):
        matches = sorted(glob.glob(path))
        if not matches:
            raise AddressError(f"no socket matches {path!r}")
        if name is not None and len(matches) > 1:
            raise AddressError(
                f"{original!r}: a name can label one VM, but the glob matches {len(matches)}"
            )
        return [_unix(match, name, shared) for match in matches]
    return [_unix(path, name, shared)]


def parse_addresses(texts: list[str], *, shared: bool = False) -> list[VMAddress]:
    """Parse many address arguments, dropping repeats of the same socket (first name wins)."""
    seen: dict[str | tuple[str, int], VMAddress] = {}
    for text in texts:
        for address in parse_address(text, shared=shared):
            key = address.endpoint
            if isinstance(key, str):
                key = os.path.realpath(key)
            seen.setdefault(key, address)
    return list(seen.values())


def is_shared_socket_path(path: str) -> bool:
    """Whether this socket belongs to a management stack that needs it free between polls."""
    absolute = os.path.abspath(path)
    return absolute.startswith(SHARED_SOCKET_DIRS)


def _unix(path: str, name: str | None, shared: bool) -> VMAddress:
    # Absolute, so the same socket has one key whatever directory balloontui was started in.
    path = os.path.abspath(path)
    return VMAddress(path=path, name=name, shared=shared or is_shared_socket_path(path))


def _host(text: str, original: str) -> str:
    rest = text.removeprefix("tcp:")
    if rest.startswith("["):
        host, sep, _ = rest[1:].partition("]")
        if not sep or not host:
            raise AddressError(f"{original!r}: unclosed '[' in an IPv6 address")
        return host
    host, sep, _ = rest.rpartition(":")
    if not sep or not host:
        raise AddressError(f"{original!r}: expected tcp:HOST:PORT, for example tcp:127.0.0.1:4444")
    return host


def _port(text: str, original: str) -> int:
    _, _, port_text = text.rpartition(":")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise AddressError(f"{original!r}: the port must be a number from 1 to 65535")
    return int(port_text)

