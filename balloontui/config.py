"""The user's settings: ``$XDG_CONFIG_HOME/balloontui/config.toml``.

Example::

    theme = "balloontui-light"
    read_only = false
    step = "10%"            # what + and - move a target by
    stats_interval = 2      # turn guest stats on at this interval where they are off (0: never)
    units = "bytes"         # or "pages"
    shared_sockets = ["/srv/pve/*.qmp"]   # sockets other tools poll too: never held open

    [vms]                   # named VMs, opened when no VM is given on the command line
    web-01 = "/run/vms/web-01.sock"
    db = "tcp:10.0.0.2:4444"

    [keymap]                # binding id = keys (see the help screen, key ?)
    grow = "plus,ctrl+up"
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from balloontui.core.addresses import AddressError, VMAddress, parse_address
from balloontui.core.sizes import SizeError, parse_size


class ConfigError(ValueError):
    """A config file we cannot use; the message names the file and the setting."""


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "balloontui"


@dataclass(frozen=True)
class Config:
    theme: str | None = None
    read_only: bool = False
    step: str = "10%"
    stats_interval: int = 0
    units: str = "bytes"
    shared_sockets: tuple[str, ...] = ()
    vms: dict[str, str] = field(default_factory=dict)
    keymap: dict[str, str] = field(default_factory=dict)

    def addresses(self) -> list[VMAddress]:
        """The named VMs of the config, in file order."""
        found: list[VMAddress] = []
        for name, address in self.vms.items():
            try:
                found.extend(parse_address(f"{name}={address}"))
            except AddressError as err:
                raise ConfigError(f"[vms] {name}: {err}") from None
        return found

    def shared_addresses(self) -> list[VMAddress]:
        found: list[VMAddress] = []
        for pattern in self.shared_sockets:
            try:
                found.extend(parse_address(pattern, shared=True))
            except AddressError:
                continue  # a pattern that matches nothing today may match tomorrow
        return found


def load_config(path: Path | None = None) -> Config:
    """Read the config file; a missing file is the default config."""
    path = path or config_dir() / "config.toml"
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        return Config()
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read it: {err}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    return _validate(raw, path)


def _validate(raw: dict[str, Any], path: Path) -> Config:
    known = {"theme", "read_only", "step", "stats_interval", "units", "shared_sockets", "vms",
             "keymap"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(known))}")

    def expect(key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        value = raw.get(key, default)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigError(f"{path}: '{key}' has the wrong type ({type(value).__name__})")
        return value

    step = expect("step", str, "10%")
    try:
        parse_size(step, memory=1 << 30)
    except SizeError as err:
        raise ConfigError(f"{path}: step: {err}") from None
    interval = expect("stats_interval", int, 0)
    if interval < 0:
        raise ConfigError(f"{path}: stats_interval must be 0 (leave as is) or more seconds")
    units = expect("units", str, "bytes")
    if units not in ("bytes", "pages"):
        raise ConfigError(f"{path}: units must be \"bytes\" or \"pages\"")
    shared = expect("shared_sockets", list, [])
    vms = expect("vms", dict, {})
    keymap = expect("keymap", dict, {})
    for table, name in ((vms, "vms"), (keymap, "keymap")):
        for key, value in table.items():
            if not isinstance(value, str):
                raise ConfigError(f"{path}: [{name}] {key} must be a string")
    if not all(isinstance(item, str) for item in shared):
        raise ConfigError(f"{path}: shared_sockets must be a list of strings")
    theme = expect("theme", (str, type(None)), None)
    return Config(theme=theme, read_only=expect("read_only", bool, False), step=step,
                  stats_interval=interval, units=units, shared_sockets=tuple(shared), vms=vms,
                  keymap=keymap)
