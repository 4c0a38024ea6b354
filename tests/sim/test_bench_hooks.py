"""What the benchmark asks of `balloontui sim`: a uniform stats interval, and a BALLOON_CHANGE
with a chosen value at a known moment."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from tests.sim.test_command import recv_until

BALLOON = "/machine/peripheral/balloon0"


@pytest.fixture
def uniform_sim(sock_dir):
    process = subprocess.Popen(
        [sys.executable, "-m", "balloontui", "sim", "--vms", "3", "--dir", sock_dir,
         "--seed", "1", "--stats-interval", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = [process.stdout.readline() for _ in range(3)]
    yield lines, sock_dir
    process.kill()
    process.wait()


def qmp(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(path)
    recv_until(sock, b"\r\n")
    sock.sendall(b'{"execute": "qmp_capabilities"}\n')
    recv_until(sock, b"\r\n")
    return sock


def ask(sock: socket.socket, command: str, **arguments: object) -> object:
    sock.sendall(json.dumps({"execute": command, "arguments": arguments}).encode() + b"\n")
    return json.loads(recv_until(sock, b"\r\n"))["return"]


def test_every_vm_reports_stats_each_second(uniform_sim):
    lines, _ = uniform_sim
    balloons = [line.split()[0] for line in lines if "no balloon device" not in line]
    assert len(balloons) >= 2
    for path in balloons:
        with qmp(path) as sock:
            assert ask(sock, "qom-get", path=BALLOON,
                       property="guest-stats-polling-interval") == 1


def test_a_chosen_actual_goes_out_at_once_and_says_when(uniform_sim):
    _, directory = uniform_sim
    with qmp(os.path.join(directory, "web-01.sock")) as vm, \
            socket.socket(socket.AF_UNIX) as control:
        control.connect(os.path.join(directory, "sim-control"))
        before = time.monotonic()
        control.sendall(b"actual web-01 1000M\n")
        reply = recv_until(control, b"ok\n").decode().split()
        assert reply[0] == "sent" and before <= float(reply[1]) <= time.monotonic()
        event = json.loads(recv_until(vm, b"\r\n"))
        assert event["event"] == "BALLOON_CHANGE"
        assert event["data"] == {"actual": 1000 * 2**20}
        assert ask(vm, "query-balloon") == {"actual": 1000 * 2**20}
        control.sendall(b"actual web-01 100G\n")
        assert recv_until(control, b"\n").startswith(b"error:")
