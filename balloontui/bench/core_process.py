"""balloontui's headless core alone, in a process of its own: what the TUI runs underneath.

``python -m balloontui.bench.core_process SOCKET...`` runs one :class:`Monitor` over every VM with
``SessionSettings(poll_interval=1.0, stats_interval=1)`` and a target store (as the TUI does),
no listener, no Textual. It prints ``ready`` once every VM had its first connection attempt and
on SIGTERM one JSON line of counts (from the observations the core makes), then exits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections import Counter

from balloontui.core.addresses import VMAddress
from balloontui.core.monitor import Monitor
from balloontui.core.session import Observation, SessionSettings
from balloontui.core.target_store import TargetStore
from balloontui.core.vm_state import Link


async def run(paths: list[str], count_observations: bool) -> dict[str, int]:
    monitor = Monitor([VMAddress(path=p) for p in paths],
                      settings=SessionSettings(poll_interval=1.0, stats_interval=1),
                      store=TargetStore())
    kinds: Counter[str] = Counter()
    if count_observations:  # a listener costs a little: only when asked
        def observed(observation: Observation) -> None:
            kinds[observation.kind] += 1

        monitor.subscribe(on_observation=observed)
    await monitor.start()
    await monitor.wait_connected(60)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    connected = sum(s.state.link is Link.CONNECTED for s in monitor.sessions.values())
    await monitor.stop(restore=False)
    return {"vms": len(paths), "connected": connected, **kinds}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m balloontui.bench.core_process")
    parser.add_argument("sockets", nargs="+")
    parser.add_argument("--count", action="store_true",
                        help="count the core's observations (events, stats) and print them")
    args = parser.parse_args()
    logging.getLogger().setLevel(logging.CRITICAL)  # as the TUI: nothing logged by default
    logging.getLogger("qemu").setLevel(logging.CRITICAL)
    print(json.dumps(asyncio.run(run(args.sockets, args.count))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
