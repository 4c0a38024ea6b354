"""Command line: ``balloontui [VM ...]`` opens the TUI; subcommands do one thing each."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="balloontui",
        description="Watch and steer the virtio memory balloons of QEMU VMs over QMP.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    from balloontui.sim import command as sim_command

    sim_command.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
