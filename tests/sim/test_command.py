"""`balloontui sim` as an operator runs it: sockets listed, faults on demand, clean exit."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest


def recv_until(sock: socket.socket, marker: bytes, timeout: float = 5.0) -> bytes:
    sock.settimeout(timeout)
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


@pytest.fixture
def sim(sock_dir):
    process = subprocess.Popen(
        [sys.executable, "-m", "balloontui", "sim", "--vms", "4", "--dir", sock_dir,
         "--seed", "3", "--fault", "web-01:slow=300"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = [process.stdout.readline() for _ in range(4)]
    yield process, lines, sock_dir
    if process.poll() is None:
        process.kill()
        process.wait()


def test_sim_serves_one_socket_per_vm_and_cleans_up_on_sigterm(sim):
    process, lines, directory = sim
    paths = [line.split()[0] for line in lines]
    assert [os.path.basename(p) for p in paths] == [
        "web-01.sock", "db-01.sock", "cache-01.sock", "app-01.sock"]
    assert all(os.path.dirname(p) == directory for p in paths)
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(paths[1])
        greeting = json.loads(recv_until(sock, b"\r\n"))
        assert greeting["QMP"]["version"]["qemu"]["major"] == 7
        sock.sendall(b'{"execute": "qmp_capabilities"}{"execute": "query-name"}\n')
        assert b'{"return": {"name": "db-01"}}' in recv_until(sock, b"db-01")
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 0
    assert not any(os.path.exists(p) for p in paths)
    assert not os.path.exists(os.path.join(directory, "sim-control"))


def test_faults_from_the_command_line_and_the_control_socket(sim):
    process, lines, directory = sim
    web = lines[0].split()[0]
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(web)
        recv_until(sock, b"\r\n")
        started = time.monotonic()
        sock.sendall(b'{"execute": "qmp_capabilities"}\n')
        recv_until(sock, b"return")
        assert time.monotonic() - started >= 0.25, "--fault web-01:slow=300"
    with socket.socket(socket.AF_UNIX) as control:
        control.connect(os.path.join(directory, "sim-control"))
        control.sendall(b"fault db-01 hang\n")
        assert recv_until(control, b"\n") == b"ok\n"
        control.sendall(b"fill nope 1G\n")
        assert recv_until(control, b"\n").startswith(b"error: no VM named")
        control.sendall(b"fault db-01 melt\n")
        assert b"unknown fault" in recv_until(control, b"\n")
        control.sendall(b"list\n")
        listing = recv_until(control, b"ok\n").decode()
        assert "db-01 running" in listing and "faults=hang" in listing
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(lines[1].split()[0])
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            sock.recv(100)  # hung: no greeting
    process.send_signal(signal.SIGINT)
    assert process.wait(10) == 0


def test_bad_options_are_refused(sock_dir):
    result = subprocess.run(
        [sys.executable, "-m", "balloontui", "sim", "--vms", "2", "--dir", sock_dir,
         "--fault", "nobody:hang"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "no VM named nobody" in result.stderr
