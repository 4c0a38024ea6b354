"""``balloontui [VM ...]``: the terminal UI."""

from __future__ import annotations

import argparse
import sys

from balloontui.commands.common import EXIT_USAGE, UsageError
from balloontui.config import Config, ConfigError, load_config
from balloontui.core.addresses import AddressError, VMAddress, parse_addresses
from balloontui.core.default_sockets import find_default_addresses
from balloontui.core.monitor import Monitor
from balloontui.core.session import SessionSettings
from balloontui.core.sizes import SizeError, parse_size
from balloontui.core.target_store import TargetStore


def add_tui_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--read-only", action="store_true",
                        help="watch only: hide and refuse every command that changes a VM")
    parser.add_argument("--step", metavar="SIZE",
                        help="what + and - move a target by (default 10%% of the VM's memory)")
    parser.add_argument("--theme", help="balloontui-dark (default), balloontui-light, "
                        "balloontui-high-contrast, balloontui-16, or a theme of yours")
    parser.add_argument("--stats-interval", type=int, metavar="S",
                        help="turn guest stats on at S seconds where they are off "
                             "(put back on exit)")
    parser.add_argument("--shared-socket", action="store_true",
                        help="connect only for each poll, leaving the sockets free for others")


def build_tui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="balloontui",
        description="Watch and steer the virtio memory balloons of QEMU VMs over QMP. "
                    "Commands: stat, set, sim, demo (balloontui COMMAND --help).")
    parser.add_argument("vms", nargs="*", metavar="VM",
                        help="socket path, unix:PATH, tcp:HOST:PORT, NAME=ADDRESS or a glob")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    add_tui_options(parser)
    return parser


def tui_settings(args: argparse.Namespace, config: Config, *,
                 default_interval: int = 0) -> tuple[SessionSettings, bool, str]:
    read_only = bool(args.read_only or config.read_only)
    step = args.step or config.step
    try:
        parse_size(step.lstrip("+-"), memory=1 << 30)
    except SizeError as err:
        raise UsageError(f"--step: {err}") from None
    interval = args.stats_interval
    if interval is None:
        interval = config.stats_interval or default_interval
    if interval < 0:
        raise UsageError("--stats-interval: 0 or more seconds")
    return SessionSettings(read_only=read_only, stats_interval=interval), read_only, step


def choose_tui_addresses(args: argparse.Namespace, config: Config) -> list[VMAddress]:
    try:
        if args.vms:
            return parse_addresses(args.vms, shared=args.shared_socket)
        named = config.addresses() + config.shared_addresses()
    except AddressError as err:
        raise UsageError(str(err)) from None
    return named or find_default_addresses()


def run_app(monitor: Monitor, args: argparse.Namespace, config: Config, read_only: bool,
            step: str) -> int:
    from balloontui.ui.app import BalloonApp  # Textual only when the UI is wanted

    app = BalloonApp(monitor, config=config, read_only=read_only, step=step, theme=args.theme,
                     freeze_long_lived=True)
    app.run()
    return app.return_code or 0


def run_tui(argv: list[str]) -> int:
    args = build_tui_parser().parse_args(argv)
    try:
        config = load_config()
        settings, read_only, step = tui_settings(args, config)
        addresses = choose_tui_addresses(args, config)
    except (UsageError, ConfigError) as err:
        print(f"balloontui: {err}", file=sys.stderr)
        return EXIT_USAGE
    monitor = Monitor(addresses, settings=settings, store=TargetStore())
    return run_app(monitor, args, config, read_only, step)
