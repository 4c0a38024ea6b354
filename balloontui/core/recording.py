"""Recordings: every input a session saw, one JSON object per line.

A line looks like ``{"t": 1796064660.7, "vm": "web-01", "address": "unix:/run/web-01.sock",
"type": "event", "data": {"event": "BALLOON_CHANGE", "data": {"actual": 535822336}, ...}}``.
Each line is flushed as it is written, so a recording cut short (even by SIGKILL) is valid up to
its last full line, and :func:`read_recording` reads it so.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from balloontui.core.session import Observation


class RecordingError(ValueError):
    """A file that is not a balloontui recording."""


class Recorder:
    """Writes observations to a file, one flushed line each."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: TextIO = open(path, "a", buffering=1, encoding="utf-8")
        self.lines = 0

    def write(self, observation: Observation) -> None:
        record = {"t": observation.at, "vm": observation.vm, "address": observation.address,
                  "type": observation.kind, "data": observation.data}
        self._file.write(json.dumps(record, separators=(",", ":"), default=str) + "\n")
        self._file.flush()
        self.lines += 1

    def close(self) -> None:
        self._file.close()


def read_recording(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a recording, in order. A cut-off last line is left out; a damaged line
    elsewhere raises :class:`RecordingError` naming it."""
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as err:
        raise RecordingError(f"{path}: {err}") from None
    last = len(lines) - 1
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or not {"t", "vm", "address", "type",
                                                    "data"} <= record.keys():
                raise ValueError("not a balloontui record")
        except ValueError as err:
            if number - 1 == last:
                return  # the line being written when the recorder was stopped
            raise RecordingError(f"{path}, line {number}: {err}") from None
        yield record
