import socket

import pytest

from balloontui.core.addresses import AddressError, parse_address, parse_addresses


def test_forms():
    (a,) = parse_address("/run/vms/web.sock")
    assert a.path == "/run/vms/web.sock" and str(a) == "unix:/run/vms/web.sock"
    assert a.fallback_name == "web" and not a.shared
    (b,) = parse_address("unix:/run/vms/db.sock")
    assert b.path == "/run/vms/db.sock"
    (c,) = parse_address("tcp:127.0.0.1:4444")
    assert (c.host, c.port, c.endpoint) == ("127.0.0.1", 4444, ("127.0.0.1", 4444))
    (d,) = parse_address("tcp:[::1]:4444")
    assert d.host == "::1" and str(d) == "tcp:[::1]:4444"
    (e,) = parse_address("web-01=/run/vms/x.sock")
    assert e.name == "web-01" and e.path == "/run/vms/x.sock"
    (f,) = parse_address("db=tcp:10.0.0.2:5000")
    assert f.name == "db" and f.port == 5000


def test_proxmox_sockets_are_shared():
    (a,) = parse_address("/var/run/qemu-server/101.qmp")
    assert a.shared
    (b,) = parse_address("/tmp/x.sock", shared=True)
    assert b.shared


def test_globs_expand_to_sorted_sockets(tmp_path):
    for name in ("b", "a", "c"):
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(tmp_path / f"{name}.sock"))
        s.close()
    addresses = parse_address(str(tmp_path / "*.sock"))
    assert [a.fallback_name for a in addresses] == ["a", "b", "c"]
    with pytest.raises(AddressError, match="no socket matches"):
        parse_address(str(tmp_path / "*.qmp"))
    with pytest.raises(AddressError, match="a name can label one VM"):
        parse_address(f"x={tmp_path}/*.sock")


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "empty"), ("tcp:host", "expected tcp:HOST:PORT"), ("tcp:h:99999", "port"),
     ("tcp:h:x", "port"), ("=/x.sock", "name before '=' is empty"), ("unix:", "no socket path"),
     ("tcp:[::1:5", "unclosed")],
)
def test_bad_addresses(text, message):
    with pytest.raises(AddressError, match=message):
        parse_address(text)


def test_repeats_are_dropped_first_name_wins(tmp_path):
    path = str(tmp_path / "vm.sock")
    addresses = parse_addresses([f"one={path}", f"two={path}", f"unix:{path}"])
    assert [a.name for a in addresses] == ["one"]
