"""The table: every figure next to its goal, and whether it is met."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MB = 1e6


@dataclass
class Row:
    measurement: str
    figure: str
    value: str
    goal: str = ""
    met: bool | None = None
    """None: informative, no goal."""

    @property
    def verdict(self) -> str:
        return {True: "ok", False: "MISSED", None: ""}[self.met]


def _num(value: float | None, fmt: str) -> str:
    return "–" if value is None else format(value, fmt)


def _at_most(value: float | None, goal: float) -> bool | None:
    return None if value is None else value <= goal


def overhead_rows(r: dict[str, Any]) -> list[Row]:
    clients = r["clients"]
    n = r["vms"]
    rows = []
    for name, label in (("bare", "bare qemu.qmp loop"), ("bare-lean", "bare loop, lean qemu.qmp"),
                        ("core", "headless core"), ("tui", "full TUI (160×48)")):
        if name in clients:
            rows.append(Row("1 overhead", f"{label}, {n} VMs: CPU",
                            f"{clients[name]['cores'] * 100:.2f} % of a core"))
    if "core_ratio" in r:
        rounds = r.get("core_ratio_by_round") or []
        spread = f" (rounds: {', '.join(f'{x:.2f}' for x in rounds)})" if len(rounds) > 1 else ""
        rows.append(Row("1 overhead", "core ÷ bare", f"{r['core_ratio']:.2f}×{spread}",
                        "≤ 1.3×", r["core_ratio"] <= 1.3))
    if "tui_ratio" in r:
        rows.append(Row("1 overhead", "TUI ÷ bare", f"{r['tui_ratio']:.2f}×"))
    if "core_to_lean_ratio" in r:
        rows.append(Row("1 overhead", "core ÷ lean bare", f"{r['core_to_lean_ratio']:.2f}×"))
    return rows


def scale_rows(r: dict[str, Any]) -> list[Row]:
    n = r["vms"]
    rows = [Row("2 scale", f"TUI start-up, {n} VMs", f"{r['startup_seconds']:.1f} s")]
    if "tui_cores" in r:
        latency = r["event_latency"]
        rows += [
            Row("2 scale", f"TUI CPU, {n} VMs, stats 1 s", f"{r['tui_cores']:.2f} cores",
                "≤ 1 core", r["tui_cores"] <= 1.0),
            Row("2 scale", "keeps up (event latency level, < 1 s)",
                "yes" if r["keeps_up"] else "no", "yes", r["keeps_up"]),
            Row("2 scale", "event → screen p50, first → last third",
                f"{_num(r['latency_p50_first_third_ms'], '.0f')} → "
                f"{_num(r['latency_p50_last_third_ms'], '.0f')} ms "
                f"({latency['samples']} probes, {latency['missed']} lost)"),
            Row("2 scale", "bytes/s written, first → last third",
                f"{r['bytes_per_second_first_third']} → {r['bytes_per_second_last_third']}"),
            Row("2 scale", "simulator CPU (not counted)", f"{r['simulator_cores']:.2f} cores"),
            Row("2 scale", "TUI RSS (growth in the window)",
                f"{r['tui_rss_bytes'] / MB:.0f} MB (+{r['tui_rss_growth_bytes'] / MB:.1f})"),
        ]
    if "keypress_latency" in r:
        rows += keypress_rows(r["keypress_latency"], n)
    return rows


def keypress_rows(k: dict[str, Any], n: int) -> list[Row]:
    p99 = k["p99_ms"] if not k["missed"] else None
    return [
        Row("3b keypress", f"u → screen p50, {n} VMs", f"{_num(k['p50_ms'], '.0f')} ms"),
        Row("3b keypress", f"u → screen p99, {n} VMs",
            f"{_num(k['p99_ms'], '.0f')} ms ({k['samples']} presses, {k['missed']} > 10 s)",
            "≤ 100 ms", False if k["missed"] else _at_most(p99, 100)),
    ]


def latency_rows(r: dict[str, Any]) -> list[Row]:
    n = r["vms"]
    lost = f", {r['missed']} lost" if r["missed"] else ""
    p99 = r["p99_ms"] if not r["missed"] else None
    return [
        Row("3a latency", f"BALLOON_CHANGE → screen p50, {n} VMs", f"{_num(r['p50_ms'], '.0f')} ms"),
        Row("3a latency", f"BALLOON_CHANGE → screen p99, {n} VMs",
            f"{_num(r['p99_ms'], '.0f')} ms ({r['samples']} samples{lost})", "≤ 50 ms",
            False if r["missed"] else _at_most(p99, 50)),
    ]


def memory_rows(r: dict[str, Any]) -> list[Row]:
    readings = r["readings"]
    series = ", ".join(f"{x['hours']:g} h {x['rss'] / MB:.0f}" for x in readings)
    day = r["rss_day_bytes"]
    growth = r["growth_after_day_bytes"]
    flat = growth <= 0.02 * day
    return [
        Row("4 memory", f"RSS, {r['vms']} VMs × 24 h history", f"{day / MB:.0f} MB",
            "≤ 150 MB", day <= 150 * MB),
        Row("4 memory", "RSS readings (MB)", series),
        Row("4 memory", "growth after the first day", f"{growth / MB:+.1f} MB", "flat (≤ 2 %)",
            flat),
        Row("4 memory", "fill = every second (checked)", str(r["same_as_every_second"]).lower(),
            "true", bool(r["same_as_every_second"])),
    ]


def bandwidth_rows(r: dict[str, Any]) -> list[Row]:
    rows = [Row("5 bandwidth", f"TUI, {r['vms']} VMs, {r['terminal']}",
                f"{r['bytes_per_second'] / 1000:.1f} KB/s", "≤ 4 KB/s",
                r["bytes_per_second"] <= 4000)]
    if "plots_frozen_bytes_per_second" in r:
        rows.append(Row("5 bandwidth", "the same with the plots frozen (p)",
                        f"{r['plots_frozen_bytes_per_second'] / 1000:.1f} KB/s"))
    if "htop_bytes_per_second" in r:
        htop = r["htop_bytes_per_second"]
        rows.append(Row("5 bandwidth", f"htop -d 10, {r['terminal']}",
                        "not installed" if htop is None else f"{htop / 1000:.1f} KB/s"))
    return rows


def startup_rows(r: dict[str, Any]) -> list[Row]:
    runs = ", ".join(f"{x:.2f}" for x in r["first_full_frame_all"])
    return [
        Row("6 start-up", f"to first full frame, {r['vms']} VMs (median)",
            f"{r['first_full_frame_seconds']:.2f} s ({runs})", "≤ 1 s",
            r["first_full_frame_seconds"] <= 1.0),
        Row("6 start-up", "to every visible plot drawn", f"{_num(r['plots_drawn_seconds'], '.2f')} s"),
    ]


def query_cost_rows(r: dict[str, float]) -> list[Row]:
    return [Row("0 per query", name, f"{seconds * 1e6:.0f} µs CPU")
            for name, seconds in r.items() if name != "machine_others_cores"]


BUILDERS = {
    "query-cost": query_cost_rows, "overhead": overhead_rows, "scale": scale_rows,
    "latency": latency_rows, "keypress": lambda r: keypress_rows(r, r.get("vms", 0)),
    "memory": memory_rows, "bandwidth": bandwidth_rows, "startup": startup_rows,
}

NOTES = (
    "First full frame: the footer is drawn and every pane whose numbers are on screen shows its "
    "VM's memory, actual and guest stats (or 'no balloon device'); plots come on the 1 s tick.",
    "CPU: /proc/PID/stat utime+stime of the measured process only (the simulator runs apart).",
)


def rows_for(results: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for name, result in results.items():
        if name in BUILDERS and isinstance(result, dict) and "error" not in result:
            rows += BUILDERS[name](result)
        elif isinstance(result, dict) and "error" in result:
            first_line = (result["error"].splitlines() or ["?"])[0]
            rows.append(Row(name, "failed", first_line[:100], "", False))
    return rows


def render(results: dict[str, Any]) -> str:
    rows = rows_for(results)
    headers = ("", "figure", "measured", "goal", "")
    table = [headers] + [(r.measurement, r.figure, r.value, r.goal, r.verdict) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(headers))]
    out = []
    for index, line in enumerate(table):
        out.append("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
        if index == 0:
            out.append("  ".join("-" * width for width in widths))
    notes = [*NOTES, _load_note(results)]
    return "\n".join(out + [""] + [f"* {note}" for note in notes if note])


def _load_note(results: dict[str, Any]) -> str:
    loads = {name: r["machine_others_cores"] for name, r in results.items()
             if isinstance(r, dict) and "machine_others_cores" in r}
    if not loads:
        return ""
    text = ("Other processes on the machine used, in cores: "
            + ", ".join(f"{name} {load:.2f}" for name, load in loads.items()) + ".")
    if max(loads.values()) >= 0.25:
        text += (" A busy machine makes latencies, start-up and 'keeps up' pessimistic "
                 "(--wait-quiet waits for a quieter moment).")
    return text
