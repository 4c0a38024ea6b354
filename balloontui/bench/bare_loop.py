"""The yardstick: the least a monitor of N VMs must do, written plainly with ``qemu.qmp``.

``python -m balloontui.bench.bare_loop SOCKET...`` connects one ``QMPClient`` per VM and, once a
second per VM, asks ``query-balloon`` and ``qom-get guest-stats``, while a task per VM drains
its events (as a monitor must, or qemu.qmp queues them forever). No timeouts, no bookkeeping,
no history. It prints ``ready`` when every VM is connected, and on SIGTERM one JSON line of
counts, then exits. ``--lean`` skips qemu.qmp's rendering of every message for its debug log
(what balloontui's transport does), for a second, stricter yardstick.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from typing import Any

from qemu.qmp import ExecuteError, QMPClient
from qemu.qmp.message import Message

BALLOON = "/machine/peripheral/balloon0"


class _LeanClient(QMPClient):
    def _cb_outbound(self, msg: Message) -> Message:
        return msg

    def _cb_inbound(self, msg: Message) -> Message:
        return msg


class Counts:
    def __init__(self) -> None:
        self.queries = 0
        self.events = 0
        self.stats_reports = 0


async def _watch(client: QMPClient, has_stats: bool, counts: Counts) -> None:
    loop = asyncio.get_running_loop()
    due = loop.time()
    last_update: Any = None
    while True:
        await client.execute("query-balloon")
        counts.queries += 1
        if has_stats:
            reply = await client.execute("qom-get", {"path": BALLOON, "property": "guest-stats"})
            counts.queries += 1
            if isinstance(reply, dict) and reply.get("last-update") != last_update:
                last_update = reply.get("last-update")
                counts.stats_reports += 1
        due += 1.0
        await asyncio.sleep(max(0.0, due - loop.time()))


async def _drain(client: QMPClient, counts: Counts) -> None:
    while True:
        await client.events.get()
        counts.events += 1


async def _connect(path: str, lean: bool) -> tuple[QMPClient, bool] | None:
    client = (_LeanClient if lean else QMPClient)(path)
    await client.connect(path)
    try:
        await client.execute("query-balloon")
        await client.execute("qom-get", {"path": BALLOON, "property": "guest-stats"})
    except ExecuteError:  # no balloon device: nothing to watch
        await client.disconnect()
        return None
    return client, True


async def run(paths: list[str], lean: bool) -> dict[str, int]:
    counts = Counts()
    clients = [c for c in await asyncio.gather(*(_connect(p, lean) for p in paths)) if c]
    tasks = [asyncio.create_task(_watch(client, has_stats, counts))
             for client, has_stats in clients]
    tasks += [asyncio.create_task(_drain(client, counts)) for client, _ in clients]
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"vms": len(clients), "queries": counts.queries, "events": counts.events,
            "stats_reports": counts.stats_reports}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m balloontui.bench.bare_loop")
    parser.add_argument("sockets", nargs="+")
    parser.add_argument("--lean", action="store_true")
    args = parser.parse_args()
    logging.getLogger("qemu").setLevel(logging.CRITICAL)
    print(json.dumps(asyncio.run(run(args.sockets, args.lean))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
