"""QMP input as QEMU reads it: a stream of JSON values, not lines.

QEMU's parser does not wait for a newline: a value ends when its braces balance, several values
may share a line, one value may span lines. Bad input is answered with QEMU's own texts
("JSON parse error, invalid keyword 'garbage'", "JSON parse error, expecting value"). QEMU also
accepts single-quoted strings (a JSON extension of its own); so do we.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_VALUE_BYTES = 64 << 20
"""QEMU's limit on one token; past it the value is refused."""


@dataclass(frozen=True, slots=True)
class ParseError:
    """Input that is not JSON; ``desc`` is QEMU's error text."""

    desc: str


_STRUCTURAL = frozenset("{}[],:")
_SPACE = frozenset(" \t\r\n")


class JSONStreamSplitter:
    """Feed bytes, get back each complete JSON value (or a :class:`ParseError`) in order."""

    def __init__(self) -> None:
        self._pending = b""
        self._text: list[str] = []  # the value being collected, double-quoted strings only
        self._depth = 0
        self._quote: str | None = None  # inside a string: its quote character
        self._escape = False
        self._scalar = False  # collecting a bare top-level token (keyword or number)
        self._size = 0

    def feed(self, data: bytes) -> list[Any | ParseError]:
        """The values completed by ``data``; an incomplete one is kept for the next call."""
        data = self._pending + data
        try:
            text = data.decode("utf-8")
            self._pending = b""
        except UnicodeDecodeError as err:
            if err.end == len(data) and err.reason == "unexpected end of data":
                text, self._pending = data[: err.start].decode("utf-8"), data[err.start:]
            else:
                self._reset()
                self._pending = b""
                return [ParseError("JSON parse error, invalid UTF-8 sequence in string")]
        out: list[Any | ParseError] = []
        for char in text:
            self._take(char, out)
        return out

    def _take(self, char: str, out: list[Any | ParseError]) -> None:
        if self._quote is not None:
            self._take_in_string(char)
        elif self._scalar:
            if char in _SPACE or char in _STRUCTURAL or char in "\"'":
                self._finish_scalar(out)
                self._take(char, out)
            else:
                self._text.append(char)
        elif char in _SPACE:
            if self._depth:
                self._text.append(char)
        elif char in "\"'":
            self._quote = char
            self._text.append('"')
        elif char in "{[":
            self._depth += 1
            self._text.append(char)
        elif char in "}]":
            if self._depth == 0:
                out.append(ParseError("JSON parse error, expecting value"))
                return
            self._depth -= 1
            self._text.append(char)
            if self._depth == 0:
                self._finish(out)
        elif self._depth == 0:
            self._scalar = True
            self._text.append(char)
        else:
            self._text.append(char)
        self._size += 1
        if self._size > MAX_VALUE_BYTES:
            self._reset()
            out.append(ParseError("JSON parse error, token too large"))

    def _take_in_string(self, char: str) -> None:
        if self._escape:
            self._escape = False
            # \' is an escape only in QEMU's single-quoted strings; JSON has no such escape.
            self._text.append("'" if char == "'" else "\\" + char)
        elif char == "\\":
            self._escape = True
        elif char == self._quote:
            self._quote = None
            self._text.append('"')
            if self._depth == 0:
                self._finish_string()
        elif char == '"':
            self._text.append('\\"')
        else:
            self._text.append(char)

    def _finish_string(self) -> None:
        # A bare top-level string: valid JSON, but not an object; reported by the caller.
        self._scalar = True

    def _finish_scalar(self, out: list[Any | ParseError]) -> None:
        token = "".join(self._text)
        self._reset()
        try:
            out.append(json.loads(token))
        except ValueError:
            out.append(ParseError(f"JSON parse error, invalid keyword '{token}'"))

    def _finish(self, out: list[Any | ParseError]) -> None:
        text = "".join(self._text)
        self._reset()
        try:
            out.append(json.loads(text))
        except (ValueError, RecursionError):
            out.append(ParseError("JSON parse error, expecting value"))

    def _reset(self) -> None:
        self._text = []
        self._depth = 0
        self._quote = None
        self._escape = False
        self._scalar = False
        self._size = 0
