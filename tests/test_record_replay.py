"""Recordings keep every input, survive SIGKILL, and replay as they were."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

from balloontui.core.recording import Recorder, read_recording
from balloontui.core.replay import ReplayMonitor
from balloontui.core.monitor import Monitor
from balloontui.core.addresses import VMAddress
from balloontui.core.recognition import NoticeKind
from balloontui.core.session import SessionSettings
from balloontui.core.sizes import MiB
from balloontui.core.target_store import TargetStore
from balloontui.sim.host import SimulatedHost
from balloontui.sim.vm import VMSpec
from balloontui.sim.workloads import WorkloadSpec

FAST = SessionSettings(poll_interval=0.2, call_timeout=1.0, connect_timeout=1.0,
                       stats_interval=1)


async def until(predicate, timeout=10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_no_event_the_simulator_sent_is_missing_from_the_recording(tmp_path):
    specs = [VMSpec("web-01", workload=WorkloadSpec()), VMSpec("db-01", deflate_on_oom=True)]
    path = tmp_path / "session.jsonl"
    async with SimulatedHost(tmp_path / "vms", specs) as host:
        recorder = Recorder(path)
        monitor = Monitor([VMAddress(path=vm.socket_path) for vm in host], settings=FAST,
                          store=TargetStore(tmp_path / "t.json"))
        monitor.subscribe(on_observation=recorder.write)
        await monitor.start()
        await monitor.wait_connected(5)
        db = next(s for s in monitor.sessions.values() if s.state.name == "db-01")
        await db.set_target(200 * MiB)
        await until(lambda: db.state.actual == 200 * MiB)
        host.vm("db-01").fill(200 * MiB)
        host.vm("web-01").pause()
        host.vm("web-01").resume()
        await asyncio.sleep(2.5)
        await monitor.stop()
        recorder.close()
    records = list(read_recording(path))
    for vm in host:
        sent = [(e.name, round(e.timestamp, 6)) for e in vm.events if e.delivered]
        recorded = [(r["data"]["event"], round(r["data"]["timestamp"], 6)) for r in records
                    if r["type"] == "event" and r["vm"] == vm.name]
        assert sent and recorded == sent, vm.name
    kinds = {r["type"] for r in records}
    assert {"vm", "event", "stats", "target", "notice", "actual"} <= kinds
    notices = [r["data"]["kind"] for r in records if r["type"] == "notice"]
    assert NoticeKind.EPISODE_START.value in notices


RECORDER_SCRIPT = """
import asyncio, sys
from pathlib import Path
from balloontui.core.recording import Recorder
from balloontui.core.session import Observation

async def main():
    recorder = Recorder(Path(sys.argv[1]))
    n = 0
    while True:
        recorder.write(Observation("web-01", "unix:/x.sock", 1.0 + n, "event",
                                   {"event": "BALLOON_CHANGE", "data": {"actual": n},
                                    "timestamp": n, "padding": "x" * 5000}))
        n += 1
        if n % 50 == 0:
            await asyncio.sleep(0)

asyncio.run(main())
"""


async def test_a_recording_killed_mid_run_is_valid_up_to_its_last_full_line(tmp_path):
    path = tmp_path / "killed.jsonl"
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", RECORDER_SCRIPT,
                                                   str(path))
    await until(lambda: path.exists() and path.stat().st_size > 2_000_000)
    process.send_signal(signal.SIGKILL)
    await process.wait()
    records = list(read_recording(path))
    assert len(records) > 300
    assert [r["data"]["data"]["actual"] for r in records] == list(range(len(records)))
    raw = path.read_bytes()
    assert raw.count(b"\n") in (len(records), len(records) + 1)  # at most one partial line


async def test_record_command_writes_until_sigterm_and_puts_back_stats(tmp_path):
    async with SimulatedHost(tmp_path / "vms", [VMSpec("web-01")]) as host:
        path = tmp_path / "rec.jsonl"
        env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "balloontui", "record", host.vm("web-01").socket_path,
            "-o", str(path), "--stats-interval", "1", env=env,
            stderr=asyncio.subprocess.PIPE)
        await until(lambda: host.vm("web-01").device.poll_interval == 1, timeout=15)
        await until(lambda: path.exists() and b'"stats"' in path.read_bytes(), timeout=15)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 15) == 0
        assert host.vm("web-01").device.poll_interval == 0  # put back as it was
        first = json.loads(path.read_text().splitlines()[0])
        assert first["vm"] == "web-01" and first["type"] == "vm"


async def test_a_replay_shows_the_recorded_episode_again(tmp_path):
    path = tmp_path / "episode.jsonl"
    recorder = Recorder(path)
    from balloontui.core.session import Observation

    def write(t, kind, data):
        recorder.write(Observation("web-01", "unix:/run/web-01.sock", 1000.0 + t, kind, data))

    write(0, "vm", {"name": "web-01", "state": "running", "memory": 512 * MiB,
                    "balloon_device": "/machine/peripheral/balloon0", "stats_interval": 0,
                    "features": {"deflate_on_oom": True,
                                 "negotiated": ["VIRTIO_BALLOON_F_DEFLATE_ON_OOM"]}})
    write(0.01, "actual", {"actual": 512 * MiB})
    write(0.1, "target", {"target": 160 * MiB, "source": "set here"})
    write(0.2, "event", {"event": "BALLOON_CHANGE", "data": {"actual": 511 * MiB},
                         "timestamp": 1000.2})
    write(1.2, "event", {"event": "BALLOON_CHANGE", "data": {"actual": 160 * MiB},
                         "timestamp": 1001.2})
    write(8.0, "event", {"event": "BALLOON_CHANGE", "data": {"actual": 161 * MiB},
                         "timestamp": 1008.0})
    write(9.0, "event", {"event": "BALLOON_CHANGE", "data": {"actual": 304 * MiB},
                         "timestamp": 1009.0})
    write(20.0, "actual", {"actual": 304 * MiB})
    recorder.close()

    monitor = ReplayMonitor(path, speed=50)
    notices = []
    monitor.subscribe(on_notice=notices.append)
    await monitor.start()
    await asyncio.wait_for(monitor.finished.wait(), 10)
    await monitor.stop()
    (session,) = monitor.sessions.values()
    kinds = [n.kind for n in notices]
    assert NoticeKind.TARGET_REACHED in kinds
    assert NoticeKind.EPISODE_START in kinds and NoticeKind.EPISODE_END in kinds
    assert session.state.deflated_by_guest == 144 * MiB
    assert session.settings.read_only
    assert [n.at for n in notices] == sorted(n.at for n in notices)
    assert all(1000.0 <= n.at <= 1020.0 for n in notices)  # the recording's own time
