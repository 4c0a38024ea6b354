"""Monitors that cannot be reached at all: each VM's pane says why, in words to act on."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from balloontui.core.addresses import VMAddress, parse_address
from balloontui.sim.host import SimulatedHost
from balloontui.sim.vm import VMSpec
from tests.faults.conftest import border_text, operating

NOBODY = 65534


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A TCP port on localhost where nothing listens (held, so nothing starts to)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


async def test_each_unreachable_monitor_says_why(tmp_path, refused_port):
    missing = tmp_path / "gone.sock"
    not_a_socket = tmp_path / "notes.sock"
    not_a_socket.write_text("not a socket\n")
    stale = tmp_path / "stale.sock"  # what a crashed QEMU leaves: a socket file, no listener
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as leftover:
        leftover.bind(str(stale))

    def addresses(host: SimulatedHost) -> list[VMAddress]:
        return [*parse_address(str(missing)), *parse_address(str(not_a_socket)),
                *parse_address(f"tcp:127.0.0.1:{refused_port}"), *parse_address(str(stale)),
                VMAddress(path=host.vm("ok-01").socket_path)]

    async with operating(tmp_path, [VMSpec("ok-01")], addresses=addresses) as op:
        panes = {p.session.state.name: p for p in op.app.panes.values()}
        expected = {
            "gone": f"unreachable: no socket at {missing} (is the VM running?)",
            "notes": f"unreachable: {not_a_socket} is not a socket",
            f"127.0.0.1:{refused_port}":
                "unreachable: connection refused",
            "stale": "unreachable: connection refused "
                     "(QEMU exited and left its socket file?)",
        }
        def shown() -> dict[str, str]:
            return {name: border_text(panes[name].border_subtitle) for name in expected}

        await op.until(lambda: shown() == expected, f"every pane to say why ({shown()})")
        await op.keys_answer("ok-01")
        await op.shrink_and_see_it_follow("ok-01")
        assert shown() == expected


ROOT = os.geteuid() == 0


async def _balloontui_unprivileged(*args: str) -> tuple[int, str]:
    """``python -m balloontui ARGS`` where permissions bite: as ``nobody`` when we are root (as
    in CI), else as ourselves. Its exit code and output."""
    prefix = (["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"] if ROOT
              else [])
    try:
        process = await asyncio.create_subprocess_exec(
            *prefix, sys.executable, "-m", "balloontui", *args, cwd="/",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "HOME": "/nonexistent"})
    except OSError as error:
        return 126, f"cannot run {sys.executable}: {error}"
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    return process.returncode or 0, output.decode(errors="replace")


async def test_a_socket_out_of_reach_says_permission_denied(tmp_path):
    """Permissions do not bite root: as root, ``balloontui stat`` runs as nobody (setpriv) on
    sockets of root's; otherwise as ourselves on sockets whose modes lock their owner out."""
    if ROOT and shutil.which("setpriv") is None:
        pytest.fail("as root this case needs setpriv (util-linux) to run balloontui as nobody",
                    pytrace=False)
    # tmp_path may lie under a directory only its owner may enter: the sockets go elsewhere.
    place = Path(tempfile.mkdtemp(prefix="bt-perm-"))
    closed_mode, owned_mode = (0o700, 0o600) if ROOT else (0o000, 0o000)
    try:
        open_dir, closed_dir = place / "open", place / "closed"
        async with SimulatedHost(open_dir, [VMSpec("free-01"), VMSpec("owned-01")]), \
                SimulatedHost(closed_dir, [VMSpec("hidden-01")]):
            free, owned = open_dir / "free-01.sock", open_dir / "owned-01.sock"
            hidden = closed_dir / "hidden-01.sock"
            assert stat.S_ISSOCK(hidden.stat().st_mode)
            for path, mode in ((place, 0o755), (open_dir, 0o755), (free, 0o777),
                               (owned, owned_mode),  # may not connect (but may see it)
                               (closed_dir, closed_mode)):  # as QEMU's own user keeps it
                path.chmod(mode)
            try:
                code, output = await _balloontui_unprivileged("stat", "--timeout", "2",
                                                              str(free))
                if code != 0 or "free-01  running" not in output:
                    pytest.fail("balloontui cannot run unprivileged here (is the checkout or "
                                "its venv readable by others?), so permission denied cannot "
                                f"be shown:\n{output}", pytrace=False)

                code, output = await _balloontui_unprivileged("stat", "--timeout", "2",
                                                              str(owned), str(hidden))
            finally:
                closed_dir.chmod(0o700)  # the simulated QEMUs must remove their sockets
                owned.chmod(0o600)
            assert code != 0, output
            assert (f"owned-01  unreachable: unix:{owned}: permission denied (run as root or "
                    "as QEMU's user)") in output, output
            assert f"hidden-01  unreachable: permission denied reaching {hidden}" in output, \
                output
    finally:
        shutil.rmtree(place, ignore_errors=True)
