"""Whatever an operator types as a size: a clear error or a valid target, never a crash, and
no QMP command for text that is not a valid size."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from balloontui.core.addresses import VMAddress
from balloontui.core.session import BalloonSession
from balloontui.core.sizes import SizeError, resolve_target
from balloontui.core.transport import Transport
from balloontui.core.vm_state import BalloonFeatures, Link

MEMORY = 4 << 30

size_like = st.from_regex(
    r"\A\s?[+-]?\d{0,6}(\.\d{0,3})?\s?(b|k|kib|kb|m|mib|mb|g|gib|gb|t|tib|tb|p|pages|%|x|e9)?\s?\Z")
anything = st.one_of(st.text(), size_like, st.text(alphabet="0123456789.+-%gGmMkKpP iB_"))


class RecordingTransport(Transport):
    """Counts what would go to QEMU."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def open(self, on_event, on_lost, timeout) -> None:  # type: ignore[no-untyped-def]
        pass

    async def execute(self, command: str, arguments: dict[str, Any] | None = None,
                      *, timeout: float) -> Any:
        self.sent.append(command)
        return {}

    async def close(self) -> None:
        pass

    instance = None
    qemu_version = "7.2.22"


def connected_session(transport: RecordingTransport) -> BalloonSession:
    session = BalloonSession(VMAddress(path="/run/web-01.sock"))
    session._transport = transport  # as if connected: the test is about what gets sent
    state = session.state
    state.link, state.memory, state.actual = Link.CONNECTED, MEMORY, MEMORY
    state.features = BalloonFeatures(present=True, path="/machine/peripheral/balloon0")
    return session


@settings(max_examples=400, deadline=None)
@given(text=anything, current=st.none() | st.integers(0, MEMORY))
def test_resolving_any_text_gives_a_target_or_a_size_error(text, current):
    try:
        target = resolve_target(text, memory=MEMORY, current=current)
    except SizeError as err:
        assert str(err)  # something to show the operator
        return
    assert 0 < target <= MEMORY


@settings(max_examples=300, deadline=None)
@given(text=anything)
def test_invalid_text_never_sends_a_command(text):
    transport = RecordingTransport()
    session = connected_session(transport)

    async def operator_types(text: str) -> None:
        try:
            target = session.parse_target(text)
        except SizeError:
            return
        await session.set_target(target)

    asyncio.run(operator_types(text))
    try:
        resolve_target(text, memory=MEMORY, current=MEMORY)
        valid = True
    except SizeError:
        valid = False
    assert transport.sent == (["balloon"] if valid else [])
