"""``balloontui demo``: the UI on a simulated host, with nothing to set up."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
from pathlib import Path

from balloontui.commands.common import EXIT_USAGE, UsageError
from balloontui.commands.tui import add_tui_options, run_app, tui_settings
from balloontui.config import ConfigError, load_config
from balloontui.core.addresses import parse_address
from balloontui.core.monitor import Monitor
from balloontui.core.target_store import TargetStore


def add_parser(commands) -> None:  # type: ignore[no-untyped-def]
    parser = commands.add_parser(
        "demo", help="open the UI on a simulated host (no VM needed)",
        description="Run a simulated QEMU host in-process and open the UI on it: workloads that "
                    "move, deflate-on-oom episodes now and then, a VM without a balloon.")
    parser.add_argument("--vms", type=int, default=8, help="how many VMs (default 8)")
    parser.add_argument("--seed", type=int, default=1, help="the same seed gives the same host")
    add_tui_options(parser)
    parser.set_defaults(run=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    if args.vms < 1:
        print("balloontui: --vms must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    try:
        config = load_config()
        settings, read_only, step = tui_settings(args, config, default_interval=1)
    except (UsageError, ConfigError) as err:
        print(f"balloontui: {err}", file=sys.stderr)
        return EXIT_USAGE
    with tempfile.TemporaryDirectory(prefix="balloontui-demo-") as directory:
        # The simulated host runs in a thread of its own, like QEMU in processes of their own:
        # the UI's event loop then carries only what balloontui itself costs.
        ready = threading.Event()
        stop = threading.Event()
        host_thread = threading.Thread(target=_serve, args=(directory, args, ready, stop),
                                       daemon=True, name="simulated host")
        host_thread.start()
        ready.wait(30)
        addresses = parse_address(f"{directory}/*.sock")
        # The demo's remembered targets die with the demo.
        monitor = Monitor(addresses, settings=settings,
                          store=TargetStore(Path(directory) / "targets.json"))
        try:
            return run_app(monitor, args, config, read_only, step)
        finally:
            stop.set()
            host_thread.join(5)


def _serve(directory: str, args: argparse.Namespace, ready: threading.Event,
           stop: threading.Event) -> None:
    from balloontui.sim.host import SimulatedHost

    async def main() -> None:
        async with SimulatedHost(directory, seed=args.seed, count=args.vms):
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.2)

    asyncio.run(main())
