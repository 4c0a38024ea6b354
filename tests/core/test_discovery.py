"""Finding the balloon on QEMUs with and without x-query-virtio."""

import pytest

from balloontui.core import discovery
from balloontui.core.errors import CommandFailed, ProtocolFault


def fake_qemu(replies: dict):
    sent = []

    async def call(command, arguments=None):
        sent.append((command, arguments))
        key = (command, (arguments or {}).get("path"), (arguments or {}).get("property"))
        for candidate in (key, (command, (arguments or {}).get("path")), command):
            if candidate in replies:
                reply = replies[candidate]
                if isinstance(reply, Exception):
                    raise reply
                return reply
        raise CommandFailed(command, "CommandNotFound", f"The command {command} has not been found")

    return call, sent


async def test_without_x_query_virtio_the_qom_tree_is_searched():
    # QEMU before 7.1, and a balloon added without an id (so under peripheral-anon).
    call, sent = fake_qemu({
        ("qom-list", "/machine/peripheral"): [{"name": "type", "type": "string"}],
        ("qom-list", "/machine/peripheral-anon"): [
            {"name": "device[0]", "type": "child<virtio-net-pci>"},
            {"name": "device[1]", "type": "child<virtio-balloon-pci-non-transitional>"}],
    })
    path, backend = await discovery.find_balloon(call)
    assert path == "/machine/peripheral-anon/device[1]" and backend is None
    assert await discovery.read_negotiated(call, backend) is None  # unknown, not "none"


async def test_x_query_virtio_gives_the_proxy_and_the_backend():
    call, _ = fake_qemu({"x-query-virtio": [
        {"name": "virtio-net", "path": "/machine/peripheral/net0/virtio-backend"},
        {"name": "virtio-balloon", "path": "/machine/peripheral/balloon0/virtio-backend"}]})
    assert await discovery.find_balloon(call) == (
        "/machine/peripheral/balloon0", "/machine/peripheral/balloon0/virtio-backend")


async def test_an_older_qemu_without_some_properties_reads_them_as_unknown():
    path = "/machine/peripheral/balloon0"
    call, _ = fake_qemu({
        ("qom-get", path, "deflate-on-oom"): True,
        ("qom-get", path, "free-page-hint"): CommandFailed(
            "qom-get", "GenericError", "Property 'virtio-balloon-pci.free-page-hint' not found"),
        ("qom-get", path, "free-page-reporting"): CommandFailed(
            "qom-get", "GenericError", "not found"),
    })
    features = await discovery.read_features(call, path, None)
    assert features.deflate_on_oom is True and features.free_page_hint is None
    assert features.deflate_on_oom_active is True  # as configured, since not negotiated


async def test_features_are_negotiated_only_once_the_driver_is_ready():
    backend = "/machine/peripheral/balloon0/virtio-backend"
    booting = {"status": {"statuses": []}, "guest-features": {"dev-features": []}}
    call, _ = fake_qemu({("x-query-virtio-status", backend): booting})
    assert await discovery.read_negotiated(call, backend) is None


async def test_wrong_types_are_protocol_faults():
    call, _ = fake_qemu({"query-balloon": {"actual": "536870912"}})
    with pytest.raises(ProtocolFault, match="'actual' is not a size"):
        await discovery.read_actual(call)
    call, _ = fake_qemu({"query-balloon": {}})
    with pytest.raises(ProtocolFault, match="no 'actual'"):
        await discovery.read_actual(call)
