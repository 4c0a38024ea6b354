"""``balloontui sim``: simulated QEMU VMs to try balloontui on, one QMP socket each.

``balloontui sim --vms 8 --dir DIR --seed 1`` serves ``DIR/<name>.sock`` for a varied fleet and
prints one line per socket (``PATH  NAME  MEMORY  details``) on stdout, then runs until SIGINT or
SIGTERM. Faults: ``--fault web-01:slow=500`` at start (repeatable), and at run time through the
control socket ``DIR/sim-control`` (see :mod:`balloontui.sim.control`). ``--speed 10`` makes
simulated time run ten times faster than real time; ``--stats-interval 1`` starts every VM with
guest stats each second.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import signal
import sys
from dataclasses import replace
from pathlib import Path

from balloontui.core.clock import new_accelerated_loop
from balloontui.core.default_sockets import runtime_dir
from balloontui.core.sizes import format_size
from balloontui.sim.control import ControlServer
from balloontui.sim.faults import FaultError, parse_fault_spec
from balloontui.sim.fleet import plan_fleet
from balloontui.sim.host import SimulatedHost
from balloontui.sim.vm import SimulatedVM

EXIT_OK = 0
EXIT_USAGE = 2
MAX_VMS = 5000


def add_parser(commands) -> None:  # type: ignore[no-untyped-def]
    parser = commands.add_parser(
        "sim", help="run simulated QEMU VMs (QMP sockets) to try balloontui on",
        description="Serve simulated QEMU 7.2 monitors, one unix socket per VM, until "
                    "interrupted. Prints one line per socket: PATH NAME MEMORY details.",
        epilog="Fault kinds: hang, stop-answering, garbage, truncated, wrong-types, "
               "missing-fields, huge-reply[=MiB], slow[=ms], kill, restart[=s], no-driver, "
               "pause, resume. At run time, send lines like 'fault web-01 hang' or "
               "'fill db-01 2G' to DIR/sim-control.")
    parser.add_argument("--vms", type=int, default=8, metavar="N",
                        help="how many VMs (default 8)")
    parser.add_argument("--dir", type=Path, default=None, metavar="DIR",
                        help=f"where the sockets go (default {runtime_dir()})")
    parser.add_argument("--seed", type=int, default=0,
                        help="the same seed gives the same VMs and workloads (default 0)")
    parser.add_argument("--fault", action="append", default=[], metavar="NAME:KIND[=ARG]",
                        help="inject a fault at start, e.g. web-01:slow=500 (repeatable)")
    parser.add_argument("--speed", type=float, default=1.0, metavar="FACTOR",
                        help="simulated seconds per real second (default 1)")
    parser.add_argument("--stats-interval", type=int, default=None, metavar="S",
                        help="every VM starts with guest stats every S seconds (0: off); "
                             "by default the fleet's VMs vary (off, 2 s, 5 s)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.vms <= MAX_VMS:
        print(f"balloontui sim: --vms must be between 1 and {MAX_VMS}", file=sys.stderr)
        return EXIT_USAGE
    if args.speed <= 0:
        print("balloontui sim: --speed must be positive", file=sys.stderr)
        return EXIT_USAGE
    if args.stats_interval is not None and args.stats_interval < 0:
        print("balloontui sim: --stats-interval must be 0 or more", file=sys.stderr)
        return EXIT_USAGE
    try:
        faults = [parse_fault_spec(text) for text in args.fault]
    except FaultError as err:
        print(f"balloontui sim: {err}", file=sys.stderr)
        return EXIT_USAGE
    directory = args.dir or Path(runtime_dir())
    _raise_file_limit(args.vms)
    loop = new_accelerated_loop(args.speed) if args.speed != 1 else asyncio.new_event_loop()
    try:
        return loop.run_until_complete(_serve(directory, args.vms, args.seed, faults,
                                              args.stats_interval))
    finally:
        loop.close()


async def _serve(directory: Path, count: int, seed: int,
                 faults: list[tuple[str, object, float | None]],
                 stats_interval: int | None = None) -> int:
    specs = plan_fleet(count, seed)
    if stats_interval is not None:  # a uniform fleet, e.g. for the benchmark
        specs = [replace(spec, stats_interval=stats_interval) for spec in specs]
    host = SimulatedHost(directory, specs, seed=seed)
    unknown = sorted({name for name, _, _ in faults if name not in host.vms})
    if unknown:
        print(f"balloontui sim: no VM named {', '.join(unknown)}; the VMs are "
              f"{', '.join(host.vms)}", file=sys.stderr)
        return EXIT_USAGE
    try:
        await host.start()
    except OSError as err:
        print(f"balloontui sim: cannot serve in {directory}: {err.strerror or err}",
              file=sys.stderr)
        await host.stop()
        return EXIT_USAGE
    control = ControlServer(host)
    await control.start()
    for name, kind, arg in faults:
        host.vm(name).inject(kind, arg)  # type: ignore[arg-type]
    for vm in host:
        print(describe(vm))
    print(f"control: {control.path} (send 'help')", file=sys.stderr)
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await control.close()
        await host.stop()
    return EXIT_OK


def describe(vm: SimulatedVM) -> str:
    """One line about a VM: its socket path first, so scripts can cut it out."""
    spec = vm.spec
    details = []
    if not spec.has_balloon:
        details.append("no balloon device")
    else:
        details.append("deflate-on-oom " + ("on" if spec.deflate_on_oom else "off"))
        if spec.initial_target is not None:
            details.append(f"target {format_size(spec.initial_target)}")
    if not spec.named:
        details.append("unnamed")
    return f"{vm.socket_path}  {vm.name}  {format_size(spec.memory)}  {', '.join(details)}"


def _raise_file_limit(count: int) -> None:
    """Each VM needs a listening socket and a client's connection: lift the soft fd limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * count + 64
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(hard, max(wanted, soft))
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
