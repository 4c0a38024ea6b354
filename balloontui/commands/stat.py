"""``balloontui stat``: every VM's balloon and memory at a glance, like ``virsh dommemstat``."""

from __future__ import annotations

import asyncio
import json
import time

from balloontui.commands.common import (
    EXIT_OK,
    EXIT_VM_TROUBLE,
    add_connection_options,
    choose_addresses,
    open_session,
    run_async,
)
from balloontui.core.session import BalloonSession, SessionSettings
from balloontui.core.sizes import format_size
from balloontui.core.vm_state import DEFLATE_ON_OOM, Link, VMState


def add_parser(commands) -> None:  # type: ignore[no-untyped-def]
    parser = commands.add_parser(
        "stat", help="show each VM's balloon and guest memory once",
        description="Show each VM's balloon, target and guest memory stats once. With no VM, "
                    "the sockets in the usual places.")
    parser.add_argument("vms", nargs="*", metavar="VM",
                        help="socket path, unix:PATH, tcp:HOST:PORT, NAME=ADDRESS or a glob")
    parser.add_argument("--json", action="store_true", help="one JSON array, for scripts")
    add_connection_options(parser)
    parser.set_defaults(run=lambda args: run_async(stat(args)))


async def stat(args) -> int:  # type: ignore[no-untyped-def]
    addresses = choose_addresses(args.vms, shared=args.shared_socket)
    settings = SessionSettings(call_timeout=args.timeout, connect_timeout=args.timeout,
                               read_only=True)
    sessions: list[BalloonSession] = list(
        await asyncio.gather(*(open_session(address, settings) for address in addresses)))
    await asyncio.gather(*(session.close(restore=False) for session in sessions))
    states = [session.state for session in sessions]
    if args.json:
        print(json.dumps([state.as_dict() for state in states], indent=2))
    else:
        print("\n\n".join(describe(state, time.time()) for state in states))
    return EXIT_OK if all(s.link is Link.CONNECTED for s in states) else EXIT_VM_TROUBLE


def describe(state: VMState, wall_now: float) -> str:
    """A short block of text about one VM."""
    head = f"{state.name}  {state.run_state or '–'}  {state.address}"
    if state.qemu_version:
        head += f"  QEMU {state.qemu_version}"
    if state.link is not Link.CONNECTED:
        return f"{state.name}  {state.link.value}: {state.link_message}"
    if state.features.present is False:
        return f"{head}\n  no balloon device: memory {format_size(state.memory)}, nothing to steer"
    lines = [head, _row("memory", format_size(state.memory))]
    lines.append(_row("actual", format_size(state.actual),
                      f"balloon {format_size(state.balloon_size)}"))
    if state.target is None:
        target_note = ("unknown: changed by another client" if state.changed_elsewhere
                       else "unknown: not set by balloontui")
        lines.append(_row("target", "–", target_note))
    else:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(state.target_set_at or 0))
        lines.append(_row("target", format_size(state.target),
                          f"{state.target_source.value if state.target_source else ''} {when}"))
    if state.deflated_by_guest:
        lines.append(_row("", "", f"the guest took back {format_size(state.deflated_by_guest)} "
                                  "(deflate-on-oom)"))
    lines.extend(_stats_rows(state, wall_now))
    lines.append(_row("features", _features(state)))
    return "\n".join(lines)


def _stats_rows(state: VMState, wall_now: float) -> list[str]:
    interval = state.stats_interval
    every = "off" if not interval else f"every {interval} s"
    stats = state.stats
    if stats is None or stats.last_update is None:
        return [_row("stats", "–", f"never reported (interval {every})")]
    age = stats.age(wall_now)
    rows = [
        _row("available", format_size(stats.available),
             f"free {format_size(stats.free)}  caches {format_size(stats.caches)}"),
        _row("stats", every, f"last report {age:.0f} s ago" if age is not None else ""),
    ]
    rates = state.rates
    if rates is not None:
        def per_s(value: float | None, size: bool) -> str:
            if value is None:
                return "–"
            return f"{format_size(int(value))}/s" if size else f"{value:.0f}/s"

        rows.append(_row("swap", f"in {per_s(rates.swap_in, True)}",
                         f"out {per_s(rates.swap_out, True)}  faults major "
                         f"{per_s(rates.major_faults, False)} minor "
                         f"{per_s(rates.minor_faults, False)}"))
    return rows


def _features(state: VMState) -> str:
    features = state.features
    parts = []
    doom = features.deflate_on_oom_active
    if features.negotiated is not None:
        parts.append("deflate-on-oom" if DEFLATE_ON_OOM in features.negotiated
                     else "no deflate-on-oom")
        parts.append("(negotiated)")
    else:
        parts.append({True: "deflate-on-oom", False: "no deflate-on-oom",
                      None: "deflate-on-oom unknown"}[doom])
        parts.append("(configured; driver not ready)")
    if features.free_page_reporting:
        parts.append("free-page-reporting")
    if features.free_page_hint:
        parts.append("free-page-hint")
    return " ".join(parts)


def _row(label: str, value: str, note: str = "") -> str:
    return f"  {label:<10}  {value:>10}  {note}".rstrip()
