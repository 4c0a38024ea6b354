"""Fixtures that boot real QEMU guests.

``guest_image`` (session) builds or finds the cached kernel + initramfs. ``real_guest`` is a
factory: ``vm = await real_guest(name="vm1", deflate_on_oom=True, memory_mib=512)`` boots a
guest in the test's tmp dir; every guest it started is stopped at teardown, whatever happened.

These tests never skip: without QEMU they fail and say how to get it (``tests/run`` installs it).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from .guest import QEMU, RealGuest
from .guest_image import GuestImage, GuestImageError, ensure_guest_image

StartGuest = Callable[..., Awaitable[RealGuest]]

# Room left for "<name>-console.sock" under the work dir within a unix socket's 107 bytes.
_MAX_WORKDIR = 80


@pytest.fixture(scope="session")
def guest_image() -> GuestImage:
    """The bootable guest image, built once and cached in tests/.guest-cache/."""
    if shutil.which(QEMU) is None:
        pytest.fail(
            f"{QEMU} not found: the real-QEMU tests need it. Run the suite with tests/run, "
            "which installs qemu-system-x86, busybox-static and cpio with apt-get.",
            pytrace=False,
        )
    try:
        return ensure_guest_image()
    except GuestImageError as error:
        pytest.fail(f"cannot build the guest image: {error}", pytrace=False)


@pytest.fixture
async def real_guest(guest_image: GuestImage, tmp_path: Path) -> AsyncIterator[StartGuest]:
    """Factory: ``await real_guest(name=..., **RealGuest options)`` boots and returns a guest."""
    short_dir: str | None = None
    workdir = tmp_path
    if len(str(tmp_path)) > _MAX_WORKDIR:
        short_dir = tempfile.mkdtemp(prefix="bt-qemu-")
        workdir = Path(short_dir)
    guests: dict[str, RealGuest] = {}

    async def start(name: str = "vm1", **options) -> RealGuest:
        if name in guests:
            raise ValueError(f"a guest called {name!r} already runs in this test")
        guest = RealGuest(guest_image, workdir, name, **options)
        guests[name] = guest
        await guest.start()
        return guest

    try:
        yield start
    finally:
        await asyncio.gather(*(g.stop() for g in guests.values()), return_exceptions=True)
        # Shown by pytest only when the test failed: what each guest last said.
        for guest in guests.values():
            print(f"\n=== {guest.name}: boots={guest.boots} boot_seconds={guest.boot_seconds} "
                  f"returncode={guest.returncode}; console tail:\n{guest.console_tail(15)}")
        if short_dir is not None:
            shutil.rmtree(short_dir, ignore_errors=True)
