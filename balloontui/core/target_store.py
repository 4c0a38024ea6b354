"""The targets we set, remembered across runs, since QMP cannot read a balloon's target back.

One JSON file, ``$XDG_STATE_HOME/balloontui/targets.json``, shared by every balloontui process of
the user (the TUI and ``balloontui set`` in another shell): writes take a lock, replace the file
atomically, and readers notice another process's writes by the file's modification time.
"""

from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

NULL_UUID = "00000000-0000-0000-0000-000000000000"


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local",
                                                            "state")
    return Path(base) / "balloontui"


def vm_key(uuid: str | None, name: str, address: str) -> str:
    """A VM's key: its UUID when it has a real one, else its name and monitor address."""
    if uuid and uuid != NULL_UUID:
        return f"uuid:{uuid}"
    return f"name:{name}@{address}"


@dataclass(frozen=True)
class RememberedTarget:
    target: int
    set_at: float
    """Wall-clock time it was set."""
    instance: tuple[object, ...] | None
    """The QEMU process it was set on (see ``Transport.instance``); another one starts empty."""

    def holds_for(self, instance: tuple[object, ...] | None) -> bool:
        """Whether this target still applies to the QEMU process now behind the socket."""
        return self.instance is None or instance is None or self.instance == instance


class TargetStore:
    """Targets by VM key, read lazily and re-read when another process wrote the file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_state_dir() / "targets.json"
        self._entries: dict[str, dict] = {}
        self._mtime: float | None = None

    def recall(self, key: str) -> RememberedTarget | None:
        self._refresh()
        entry = self._entries.get(key)
        if entry is None:
            return None
        try:
            instance = entry.get("instance")
            return RememberedTarget(int(entry["target"]), float(entry["set_at"]),
                                    tuple(instance) if instance is not None else None)
        except (KeyError, TypeError, ValueError):
            return None  # an entry from a damaged file: as if never set

    def remember(self, key: str, target: int, set_at: float,
                 instance: tuple[object, ...] | None) -> None:
        entry = {"target": target, "set_at": set_at,
                 "instance": list(instance) if instance is not None else None}
        with self._locked():
            entries = self._read()
            entries[key] = entry
            self._write(entries)

    def forget(self, key: str) -> None:
        with self._locked():
            entries = self._read()
            if entries.pop(key, None) is not None:
                self._write(entries)

    def _refresh(self) -> None:
        try:
            mtime = self.path.stat().st_mtime
        except OSError:
            self._entries, self._mtime = {}, None
            return
        if mtime != self._mtime:
            self._entries = self._read()
            self._mtime = mtime

    def _read(self) -> dict[str, dict]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, entries: dict[str, dict]) -> None:
        temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(entries, indent=1, sort_keys=True))
        os.replace(temporary, self.path)
        self._entries = entries
        self._mtime = self.path.stat().st_mtime

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
