"""Command line: ``balloontui [VM ...]`` opens the TUI; subcommands do one thing each."""

from __future__ import annotations

import argparse
import logging
import re
import sys

from balloontui.commands import demo, record, set_target, stat
from balloontui.commands.tui import run_tui
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
    demo.add_parser(commands)
    record.add_parsers(commands)
    return parser


SUBCOMMANDS = ("stat", "set", "sim", "demo", "record", "replay")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    words = [a for a in argv if not a.startswith("-")]
    if not words or words[0] not in SUBCOMMANDS:
        if "-h" in argv or "--help" in argv:
            build_parser().print_help()
            print()
        _configure_logging(argv.count("-v") + 2 * argv.count("-vv"), quiet_stderr=True)
        return run_tui(argv)
    if words[0] == "set":
        # `balloontui set web-01 -10%` is a relative size, not an option: a leading space keeps
        # argparse from reading it as one (sizes are stripped when parsed).
        argv = [f" {a}" if re.match(r"^-\d|^-\.\d", a) else a for a in argv]
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


def _configure_logging(verbosity: int, quiet_stderr: bool = False) -> None:
    """Our own problems are reported per VM; qemu.qmp's logging would only repeat them.

    Under the TUI nothing may write to the terminal behind Textual's back: logs go to a file
    in the state directory, and only with -v."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    if quiet_stderr:
        if verbosity:
            from balloontui.core.target_store import default_state_dir

            default_state_dir().mkdir(parents=True, exist_ok=True)
            logging.basicConfig(level=level, filename=default_state_dir() / "balloontui.log",
                                format="%(asctime)s %(name)s: %(message)s")
        else:
            logging.getLogger().addHandler(logging.NullHandler())
            logging.getLogger().setLevel(logging.CRITICAL)
    else:
        logging.basicConfig(level=level, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("qemu").setLevel(logging.DEBUG if verbosity >= 2 else logging.CRITICAL)


if __name__ == "__main__":
    sys.exit(main())
