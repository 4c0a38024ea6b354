"""``balloontui record`` and ``balloontui replay``: keep every input, and look at it again."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from balloontui.commands.common import (
    EXIT_OK,
    EXIT_USAGE,
    add_connection_options,
    choose_addresses,
    run_async,
)
from balloontui.core.monitor import Monitor
from balloontui.core.recording import Recorder, RecordingError
from balloontui.core.session import SessionSettings
from balloontui.core.target_store import TargetStore


def add_parsers(commands) -> None:  # type: ignore[no-untyped-def]
    record = commands.add_parser(
        "record", help="write every balloon event, stats sample, target change and episode to "
                       "a JSON-lines file, until interrupted",
        description="Record what balloontui sees of the VMs, one JSON object per line, flushed "
                    "at once (a recording cut short stays valid up to its last line).")
    record.add_argument("vms", nargs="*", metavar="VM")
    record.add_argument("-o", "--output", required=True, type=Path, metavar="FILE.jsonl")
    record.add_argument("--stats-interval", type=int, default=0, metavar="S",
                        help="turn guest stats on at S seconds where they are off (put back "
                             "when the recording stops)")
    add_connection_options(record)
    record.set_defaults(run=lambda args: run_async(run_record(args)))

    replay = commands.add_parser(
        "replay", help="show a recording in the UI (read-only)",
        description="Show a recording in the UI, read-only, at its own pace or faster.")
    replay.add_argument("file", type=Path, metavar="FILE.jsonl")
    replay.add_argument("--speed", type=float, default=1.0,
                        help="recorded seconds per real second (default 1)")
    replay.add_argument("--theme")
    replay.set_defaults(run=run_replay)


async def run_record(args: argparse.Namespace) -> int:
    addresses = choose_addresses(args.vms, shared=args.shared_socket)
    settings = SessionSettings(call_timeout=args.timeout, connect_timeout=args.timeout,
                               stats_interval=max(0, args.stats_interval))
    try:
        recorder = Recorder(args.output)
    except OSError as err:
        print(f"balloontui: cannot write {args.output}: {err.strerror}", file=sys.stderr)
        return EXIT_USAGE
    monitor = Monitor(addresses, settings=settings, store=TargetStore())
    monitor.subscribe(on_observation=recorder.write)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(signum, stop.set)
    print(f"recording {len(addresses)} VMs to {args.output}; stop with ctrl+c", file=sys.stderr)
    await monitor.start()
    try:
        await stop.wait()
    finally:
        await monitor.stop(restore=True)
        recorder.close()
    print(f"{recorder.lines} records in {args.output}", file=sys.stderr)
    return EXIT_OK


def run_replay(args: argparse.Namespace) -> int:
    from balloontui.config import load_config
    from balloontui.core.replay import ReplayMonitor
    from balloontui.ui.app import BalloonApp

    try:
        monitor = ReplayMonitor(args.file, speed=args.speed)
    except (RecordingError, ValueError) as err:
        print(f"balloontui: {err}", file=sys.stderr)
        return EXIT_USAGE
    app = BalloonApp(monitor, config=load_config(), read_only=True, theme=args.theme)
    app.run()
    return app.return_code or 0
