"""CPU time the client spends per QMP query: bare qemu.qmp, our transport, a whole poll."""

from __future__ import annotations

import asyncio
import time

from qemu.qmp import QMPClient

from balloontui.bench.sim_process import simulated_host
from balloontui.core.addresses import VMAddress
from balloontui.core.qmp_transport import QMPTransport
from balloontui.core.session import BalloonSession, SessionSettings


async def _cpu_per_call(call, count: int) -> float:  # type: ignore[no-untyped-def]
    for _ in range(50):  # warm up
        await call()
    start = time.process_time()
    for _ in range(count):
        await call()
    return (time.process_time() - start) / count


async def _measure(socket: str, count: int) -> dict[str, float]:
    bare = QMPClient("bench")
    await bare.connect(socket)
    bare_cost = await _cpu_per_call(lambda: bare.execute("query-balloon"), count)
    await bare.disconnect()

    transport = QMPTransport(VMAddress(path=socket))
    await transport.open(lambda event: None, lambda error: None, 5.0)
    transport_cost = await _cpu_per_call(
        lambda: transport.execute("query-balloon", timeout=5.0), count)
    await transport.close()

    session = BalloonSession(VMAddress(path=socket), settings=SessionSettings())
    await session.step()  # connect and discover
    poll_cost = await _cpu_per_call(session.step, count)
    await session.close(restore=False)
    return {"bare qemu.qmp query-balloon": bare_cost,
            "balloontui transport query-balloon": transport_cost,
            "balloontui session poll (query-balloon + bookkeeping)": poll_cost}


def measure_query_cost(count: int = 3000) -> dict[str, float]:
    """Seconds of client CPU per call, against one simulated VM in another process."""
    with simulated_host(1) as sim:
        return asyncio.run(_measure(sim.sockets[0], count))
