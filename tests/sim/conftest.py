"""Fixtures for the simulator's tests: hosts with explicit VMs, and bare QMP clients.

The simulator takes all its time from the event loop, so these tests run on an accelerated loop
(``SPEED`` times real time): a one-second throttle period costs a fifth of a second. Waits and
timeouts in the tests are in simulated seconds.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
import pytest_asyncio.plugin

from balloontui.core.clock import new_accelerated_loop
from balloontui.sim.host import SimulatedHost
from balloontui.sim.vm import SimulatedVM
from balloontui.sim.vm_spec import VMSpec
from tests.sim.raw_client import RawQMP

SPEED = 5.0

if hasattr(pytest_asyncio.plugin.PytestAsyncioSpecs, "pytest_asyncio_loop_factories"):

    def pytest_asyncio_loop_factories(config, item):  # type: ignore[no-untyped-def]
        return {"accelerated": lambda: new_accelerated_loop(SPEED)}


@pytest.fixture
def sock_dir() -> Iterator[str]:
    # Short: unix socket paths must stay under 108 bytes, which pytest's tmp_path may not.
    directory = tempfile.mkdtemp(prefix="bt-sim-")
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
async def make_host(sock_dir: str) -> AsyncIterator[Callable[..., Awaitable[SimulatedHost]]]:
    hosts: list[SimulatedHost] = []

    async def make(*specs: VMSpec, **options: object) -> SimulatedHost:
        host = SimulatedHost(sock_dir, list(specs) or None, **options)  # type: ignore[arg-type]
        await host.start()
        hosts.append(host)
        return host

    yield make
    for host in hosts:
        await host.stop()


@pytest.fixture
async def start_vm(make_host: Callable[..., Awaitable[SimulatedHost]]
                   ) -> Callable[..., Awaitable[SimulatedVM]]:
    """A host with one VM; options are VMSpec fields (default: an idle 512 MiB guest)."""

    async def start(name: str = "vm", **spec: object) -> SimulatedVM:
        host = await make_host(VMSpec(name, **spec))  # type: ignore[arg-type]
        return host.vm(name)

    return start


@pytest.fixture
async def connect() -> AsyncIterator[Callable[..., Awaitable[RawQMP]]]:
    """Open a bare QMP connection (negotiated unless ``negotiate=False``)."""
    clients: list[RawQMP] = []

    async def open_client(vm: SimulatedVM, *, negotiate: bool = True) -> RawQMP:
        client = await RawQMP.connect(vm.socket_path)
        clients.append(client)
        if negotiate:
            await client.negotiate()
        return client

    yield open_client
    for client in clients:
        await client.close()
