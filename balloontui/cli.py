"""Command line: ``balloontui [VM ...]`` opens the TUI; subcommands do one thing each."""

from __future__ import annotations

import argparse
import logging
import sys

from balloontui.commands import set_target, stat
from balloontui.sim import command as sim_command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="balloontui",
        description="Watch and steer the virtio memory balloons of QEMU VMs over QMP.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log more to stderr (-vv for QMP traffic)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    stat.add_parser(commands)
    set_target.add_parser(commands)
    sim_command.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except BrokenPipeError:  # `balloontui stat | head`: the reader has all it wanted
        sys.stderr.close()
        return 0


def _configure_logging(verbosity: int) -> None:
    """Our own problems are reported per VM; qemu.qmp's logging would only repeat them."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    logging.basicConfig(level=level, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("qemu").setLevel(logging.DEBUG if verbosity >= 2 else logging.CRITICAL)


if __name__ == "__main__":
    sys.exit(main())
