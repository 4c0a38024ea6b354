"""Where the time goes: ``py-spy`` on the TUI or the headless core, summarised.

``python -m balloontui.bench --profile tui --vms 1000`` (or ``core``) starts the simulator and
the program as the measurements do (stats at 1 s; the TUI in a 160×48 pseudo-terminal, after its
first full frame), attaches ``py-spy record`` (pip install py-spy; it needs ptrace rights) for
a while, and prints the functions with the most CPU samples: *inclusive* (the function and what
it calls) and *self* (the function's own code), each as a share of all samples of busy threads.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from balloontui.bench.child import BenchError, python_child
from balloontui.bench.sim_process import simulated_host
from balloontui.bench.tui_session import running_tui

FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^:()]+)(?::\d+)?\)$")


def _where(frame: str) -> str:
    """``function (package/module.py)``, shortened to what names the code."""
    found = FRAME.match(frame.strip())
    if not found:
        return frame.strip()
    path = found["file"]
    for marker in ("site-packages/", "balloontui/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker == "balloontui/":
                path = "balloontui/" + path
            break
    return f"{found['function']} ({path})"


UI_FILES = {path.name for path in (Path(__file__).parent.parent / "ui").glob("*.py")}
AREAS = ("balloontui UI code (and what it calls)", "Textual by itself (layout, rendering, "
         "messages)", "core and QMP (sessions, qemu.qmp, asyncio streams)",
         "event loop and other")


def _area(frames: list[str]) -> str:
    """Which part of the program a sample belongs to: the UI's own code (with the Textual and
    plotext calls it makes), Textual on its own, the core with qemu.qmp, or the rest."""
    paths = [f.rsplit("(", 1)[-1].rstrip(")") for f in frames]
    if any("balloontui/ui/" in p or p in UI_FILES for p in paths):
        return AREAS[0]
    if any(p.startswith(("textual", "rich/", "plotext")) or "/textual" in p for p in paths):
        return AREAS[1]
    if any("balloontui/core/" in p or p.startswith("qmp/") or "/qmp/" in p for p in paths):
        return AREAS[2]
    return AREAS[3]


def summarise(raw: str, top: int = 25) -> dict[str, Any]:
    """Inclusive and self shares from py-spy's raw (collapsed stacks) output; the frames every
    sample shares (the program's entry, the event loop's run) are left out of the inclusive
    list."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_where(f) for f in stack.split(";") if f.strip()]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        areas[_area(frames)] += count
        for frame in set(frames):
            inclusive[frame] += count
    share = lambda n: round(100 * n / total, 1) if total else 0.0  # noqa: E731
    roots = max(inclusive.values(), default=0) * 0.95
    return {"samples": total,
            "areas": [(name, share(areas[name])) for name in AREAS],
            "inclusive": [(name, share(n)) for name, n in inclusive.most_common()
                          if n < roots][:top],
            "self": [(name, share(n)) for name, n in own.most_common(top)]}


def _record(pid: int, seconds: float, rate: int) -> str:
    beside = Path(sys.executable).parent / "py-spy"  # installed in this virtualenv
    program = str(beside) if beside.exists() else shutil.which("py-spy")
    if program is None:
        raise BenchError("py-spy is not installed: pip install py-spy")
    with tempfile.TemporaryDirectory(prefix="bt-bench-spy-") as directory:
        output = Path(directory) / "stacks.txt"
        done = subprocess.run(
            [program, "record", "--pid", str(pid), "--duration", str(int(seconds)),
             "--rate", str(rate), "--format", "raw", "--output", str(output), "--nonblocking"],
            capture_output=True, text=True, timeout=seconds + 60)
        if done.returncode != 0 or not output.exists():
            raise BenchError(f"py-spy failed: {done.stderr.strip()[-400:]}")
        return output.read_text()


def profile(target: str, *, vms: int, seconds: float = 20, settle: float = 5.0, seed: int = 1,
            rate: int = 100) -> dict[str, Any]:
    """Profile ``tui`` or ``core`` watching ``vms`` simulated VMs for ``seconds``."""
    with simulated_host(vms, seed=seed, stats_interval=1) as sim:
        if target == "tui":
            with running_tui(sim.sockets, columns=160, rows=48,
                             ready_timeout=60 + vms / 10) as tui:
                tui.terminal.stop_emulating()
                time.sleep(settle)
                raw = _record(tui.terminal.pid, seconds, rate)
        elif target == "core":
            with python_child("balloontui.bench.core_process", sim.sockets) as (process, _):
                time.sleep(settle)
                raw = _record(process.pid, seconds, rate)
        else:
            raise ValueError(f"profile 'tui' or 'core', not {target!r}")
    return {"target": target, "vms": vms, "seconds": seconds, **summarise(raw)}


def render(result: dict[str, Any]) -> str:
    lines = [f"py-spy, {result['target']} watching {result['vms']} VMs for "
             f"{result['seconds']:g} s: {result['samples']} samples of busy threads", "",
             "by area:"]
    lines += [f"  {share:5.1f} %  {name}" for name, share in result["areas"]]
    lines += ["", "inclusive (the function and what it calls):"]
    lines += [f"  {share:5.1f} %  {name}" for name, share in result["inclusive"]]
    lines += ["", "self (the function's own code):"]
    lines += [f"  {share:5.1f} %  {name}" for name, share in result["self"]]
    return "\n".join(lines)
