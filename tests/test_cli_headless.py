"""The headless commands as a script or an operator uses them: output and exit codes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

from balloontui.core.sizes import GiB, MiB
from balloontui.sim.host import SimulatedHost
from balloontui.sim.vm import VMSpec


async def balloontui(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "balloontui", *args, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, **(env or {})})
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, out.decode(), err.decode()


def state_env(tmp_path) -> dict[str, str]:
    return {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_RUNTIME_DIR": str(tmp_path / "run")}


async def test_set_follows_actual_and_exits_0_when_reached(tmp_path):
    async with SimulatedHost(tmp_path / "vms", [VMSpec("web-01", memory=2 * GiB)]) as host:
        code, out, err = await balloontui("set", host.vm("web-01").socket_path, "1.5G",
                                          env=state_env(tmp_path))
        assert code == 0, err
        assert "target 1.50 GiB" in out and "reached 1.50 GiB" in out
        assert host.vm("web-01").actual == 1536 * MiB


async def test_set_by_name_finds_the_vm_in_the_usual_places(tmp_path):
    run = tmp_path / "run" / "balloontui"
    async with SimulatedHost(run, [VMSpec("web-01"), VMSpec("db-01")]) as host:
        code, out, err = await balloontui("set", "db-01", "-10%", "--no-wait",
                                          env=state_env(tmp_path))
        assert code == 0, err
        assert "db-01: target" in out
        await asyncio.sleep(0.3)
        assert host.vm("db-01").target < 512 * MiB and host.vm("web-01").target == 512 * MiB


async def test_bad_sizes_exit_2_and_send_nothing(tmp_path):
    async with SimulatedHost(tmp_path / "vms", [VMSpec("web-01")]) as host:
        for size in ("2X", "0", "9G", "lots"):
            code, _, err = await balloontui("set", host.vm("web-01").socket_path, size,
                                            env=state_env(tmp_path))
            assert code == 2, (size, err)
            assert err.startswith("balloontui: web-01: ")
        assert "balloon" not in {c.command for c in host.vm("web-01").commands}


async def test_a_guest_without_driver_stalls_and_set_exits_3(tmp_path, monkeypatch):
    async with SimulatedHost(tmp_path / "vms", [VMSpec("web-01", has_driver=False)]) as host:
        code, _, err = await balloontui("set", host.vm("web-01").socket_path, "256M",
                                        "--wait-timeout", "2", env=state_env(tmp_path))
        assert code == 3
        assert "not reached after 2 s" in err


async def test_unreachable_vm_exits_1_and_says_why(tmp_path):
    code, _, err = await balloontui("set", str(tmp_path / "gone.sock"), "1G",
                                    env=state_env(tmp_path))
    assert code == 1 and "no socket at" in err
    code, out, _ = await balloontui("stat", str(tmp_path / "gone.sock"), env=state_env(tmp_path))
    assert code == 1 and "unreachable" in out


async def test_stat_shows_every_vm_and_json_for_scripts(tmp_path):
    specs = [VMSpec("web-01", memory=2 * GiB, stats_interval=1),
             VMSpec("cache-01", has_balloon=False)]
    async with SimulatedHost(tmp_path / "vms", specs):
        code, out, err = await balloontui("stat", str(tmp_path / "vms" / "*.sock"),
                                          env=state_env(tmp_path))
        assert code == 0, err
        assert "cache-01" in out and "no balloon device" in out
        assert "web-01" in out and "deflate-on-oom (negotiated)" in out
        code, out, _ = await balloontui("stat", str(tmp_path / "vms" / "*.sock"), "--json",
                                        env=state_env(tmp_path))
        shown = {vm["name"]: vm for vm in json.loads(out)}
        assert shown["web-01"]["memory"] == 2 * GiB and shown["web-01"]["stats_interval"] == 1
        assert shown["web-01"]["stats"]["available-memory"] > 0
        assert shown["cache-01"]["balloon_device"] is None


def test_the_readme_example_sim_then_stat(tmp_path):
    """`balloontui sim --vms 3 --dir D` then `balloontui stat D/*.sock --json`, as documented."""
    directory = tmp_path / "D"
    sim = subprocess.Popen([sys.executable, "-m", "balloontui", "sim", "--vms", "3", "--dir",
                            str(directory)], stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while len(list(directory.glob("*.sock"))) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        result = subprocess.run([sys.executable, "-m", "balloontui", "stat",
                                 *map(str, sorted(directory.glob("*.sock"))), "--json"],
                                capture_output=True, text=True, timeout=60,
                                env={**os.environ, **state_env(tmp_path)})
        assert result.returncode == 0, result.stderr
        assert len(json.loads(result.stdout)) == 3
    finally:
        sim.send_signal(signal.SIGTERM)
        assert sim.wait(10) == 0
    assert not list(directory.glob("*.sock"))  # the simulator cleans up after itself
