"""SIGTERM and SIGHUP (an SSH session dropping): balloontui puts back the stats intervals it
changed, and exits; it never runs on without a terminal."""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import struct
import subprocess
import sys
import termios

import pytest

from balloontui.sim.host import SimulatedHost
from balloontui.sim.vm import VMSpec


async def until(predicate, timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def start_tui(socket: str, tmp_path) -> tuple[subprocess.Popen, int]:
    """balloontui in a pseudo-terminal of its own, as over SSH."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    def controlling_terminal() -> None:  # as sshd gives a login shell
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen([sys.executable, "-m", "balloontui", socket,
                                "--stats-interval", "1"], stdin=slave, stdout=slave,
                               stderr=slave, env=env, preexec_fn=controlling_terminal)
    os.close(slave)
    os.set_blocking(master, False)
    return process, master


def drain(master: int) -> None:
    try:
        while os.read(master, 65536):
            pass
    except (BlockingIOError, OSError):
        pass


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
async def test_a_signal_puts_back_the_stats_interval_and_exits(tmp_path, signum):
    async with SimulatedHost(tmp_path / "vms", [VMSpec("web-01")]) as host:
        vm = host.vm("web-01")
        process, master = start_tui(vm.socket_path, tmp_path)
        try:
            await until(lambda: (drain(master), vm.device.poll_interval == 1)[1], 30,
                        "balloontui to turn the stats on")
            process.send_signal(signum)
            await until(lambda: (drain(master), process.poll() is not None)[1], 15,
                        "balloontui to exit")
            assert vm.device.poll_interval == 0  # put back as it was
        finally:
            if process.poll() is None:
                process.kill()
            os.close(master)


async def test_the_terminal_going_away_ends_balloontui(tmp_path):
    async with SimulatedHost(tmp_path / "vms", [VMSpec("web-01")]) as host:
        vm = host.vm("web-01")
        process, master = start_tui(vm.socket_path, tmp_path)
        try:
            await until(lambda: (drain(master), vm.device.poll_interval == 1)[1], 30,
                        "balloontui to turn the stats on")
            os.close(master)  # the SSH connection dies: the kernel hangs up the terminal
            master = -1
            await until(lambda: process.poll() is not None, 15, "balloontui to exit")
            assert vm.device.poll_interval == 0
        finally:
            if process.poll() is None:
                process.kill()
            if master >= 0:
                os.close(master)
