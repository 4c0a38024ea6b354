"""The monitor's protocol, checked against what a real QEMU 7.2.22 answered to the same input."""

from __future__ import annotations

import asyncio

from balloontui.sim.json_stream import JSONStreamSplitter, ParseError
from tests.sim.raw_client import EOF

NOT_NEGOTIATED = {"class": "CommandNotFound",
                  "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}


def error(desc: str, error_class: str = "GenericError") -> dict[str, object]:
    return {"error": {"class": error_class, "desc": desc}}


async def exchange(client, data: bytes, count: int = 1) -> list[object]:
    start = len(client.received)
    client.send(data)
    await client.wait_for(lambda c: len(c.received) >= start + count)
    await asyncio.sleep(0.02)
    return [m for _, m in client.received[start:]]


async def test_greeting_is_qemu_72s_byte_for_byte(start_vm, connect):
    vm = await start_vm()
    client = await connect(vm, negotiate=False)
    await client.greeting()
    assert bytes(client.raw) == (
        b'{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, '
        b'"package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}, "capabilities": ["oob"]}}\r\n')


async def test_nothing_but_qmp_capabilities_before_negotiation(start_vm, connect):
    vm = await start_vm()
    client = await connect(vm, negotiate=False)
    await client.greeting()
    assert await client.execute("query-status") == {"error": NOT_NEGOTIATED}
    assert await client.execute("no-such-command") == {"error": NOT_NEGOTIATED}
    assert await exchange(client, b'{"execute": "query-balloon", "id": 7}\n') == [
        {"id": 7, "error": NOT_NEGOTIATED}]
    assert await exchange(client, b'{"execute": "qmp_capabilities", "id": "abc"}\n') == [
        {"return": {}, "id": "abc"}]
    assert await client.execute("qmp_capabilities") == error(
        "Capabilities negotiation is already complete, command ignored", "CommandNotFound")
    assert await client.execute("query-status") == {
        "return": {"status": "running", "singlestep": False, "running": True}}


async def test_no_events_before_negotiation(start_vm, connect):
    vm = await start_vm()
    client = await connect(vm, negotiate=False)
    await client.greeting()
    vm.pause()
    await asyncio.sleep(0.05)
    assert client.events == []
    assert vm.events[-1].name == "STOP" and not vm.events[-1].delivered


async def test_ids_are_echoed_first_in_errors_and_last_in_returns(start_vm, connect):
    vm = await start_vm()
    client = await connect(vm)
    assert client.raw.endswith(b'{"return": {}}\r\n')
    replies = await exchange(client, b'{"execute": "query-name", "id": {"x": [1, 2]}}\n'
                                     b'{"execute": "nope", "id": 1}\n', 2)
    assert replies == [{"return": {"name": "vm"}, "id": {"x": [1, 2]}},
                       {"id": 1, "error": {"class": "CommandNotFound",
                                           "desc": "The command nope has not been found"}}]
    assert list(replies[0]) == ["return", "id"] and list(replies[1]) == ["id", "error"]


async def test_malformed_input_gets_qemus_errors(start_vm, connect):
    vm = await start_vm()
    client = await connect(vm)
    cases = {
        b"garbage\n": error("JSON parse error, invalid keyword 'garbage'"),
        b'{"a":}\n': error("JSON parse error, expecting value"),
        b"[]\n": error("QMP input must be a JSON object"),
        b"5\n": error("QMP input must be a JSON object"),
        b"{}\n": error("QMP input lacks member 'execute'"),
        b'{"execute": 1}\n': error("QMP input member 'execute' must be a string"),
        b'{"foo": 1}\n': error("QMP input member 'foo' is unexpected"),
        b'{"execute": "query-status", "arguments": []}\n':
            error("QMP input member 'arguments' must be an object"),
        b'{"execute": "query-status", "arguments": {"x": 1}}\n':
            error("Parameter 'x' is unexpected"),
    }
    for data, expected in cases.items():
        assert await exchange(client, data) == [expected], data


async def test_input_is_a_stream_of_values_not_lines(start_vm, connect):
    vm = await start_vm()
    client = await connect(vm)
    status = {"return": {"status": "running", "singlestep": False, "running": True}}
    assert await exchange(client, b'{"execute":"query-status"}{"execute":"query-name"}\n', 2) \
        == [status, {"return": {"name": "vm"}}]
    start = len(client.received)
    client.send(b'{"execute":"query-status"\n')
    await asyncio.sleep(0.05)
    assert len(client.received) == start, "half a value is not answered"
    assert await exchange(client, b"}") == [status]
    assert await exchange(client, b"{'execute': 'query-name'}\n") == [{"return": {"name": "vm"}}]


async def test_one_client_at_a_time_like_qemu(start_vm, connect):
    vm = await start_vm()
    first = await connect(vm)
    second = await connect(vm, negotiate=False)  # the connect itself succeeds
    second.send({"execute": "qmp_capabilities"})
    await asyncio.sleep(0.2)
    assert second.received == [], "no greeting while the first client holds the monitor"
    assert (await first.execute("query-status"))["return"]["running"] is True
    await first.close()
    await second.wait_for(lambda c: len(c.received) >= 2)
    assert "QMP" in second.received[0][1]
    assert second.received[1][1] == {"return": {}}, "its early command is answered in turn"


async def test_quit_sends_shutdown_then_returns_then_ends_the_stream(start_vm, connect):
    vm = await start_vm()
    client = await connect(vm)
    start = len(client.received)
    client.send({"execute": "quit"})
    await client.wait_for(lambda c: c.closed)
    tail = [m for _, m in client.received[start:]]
    assert tail[0]["event"] == "SHUTDOWN"
    assert tail[0]["data"] == {"guest": False, "reason": "host-qmp-quit"}
    assert tail[1:] == [{"return": {}}, EOF]


def test_the_splitter_keeps_partial_values_and_utf8_sequences():
    splitter = JSONStreamSplitter()
    assert splitter.feed(b'{"a": "\xc3') == []
    assert splitter.feed(b'\xa9"} {"b"') == [{"a": "\u00e9"}]
    assert splitter.feed(b': [1, {"c": "}"}]}') == [{"b": [1, {"c": "}"}]}]
    assert splitter.feed(b'}\n') == [ParseError("JSON parse error, expecting value")]
    assert splitter.feed(b'"str" ') == ["str"]
