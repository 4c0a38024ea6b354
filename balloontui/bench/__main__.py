"""``python -m balloontui.bench``: what balloontui costs the host it watches.

Runs the measurements one after the other (never two at once: they would share the CPU), each
against its own simulated QEMU host (``balloontui sim``, fixed seed) in a process of its own,
and prints every figure next to its goal. Not part of the pass/fail tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from importlib import metadata
from typing import Any

from balloontui.bench.child import BenchError
from balloontui.bench.machine_load import LoadMark, wait_until_quiet
from balloontui.bench.report import render

MEASUREMENTS = ("query-cost", "overhead", "scale", "latency", "keypress", "memory", "bandwidth",
                "startup")


def machine() -> dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo") as info:
            model = next((line.split(":", 1)[1].strip() for line in info
                          if line.startswith("model name")), "")
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    versions = {}
    for package in ("textual", "qemu.qmp"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {"cpu": model, "cores": os.cpu_count(), "memory_gib": round(memory / 2**30, 1),
            "kernel": platform.release(), "python": platform.python_version(), **versions}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m balloontui.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--only", metavar="NAME[,NAME]",
                        help=f"run only these: {', '.join(MEASUREMENTS)}")
    parser.add_argument("--skip", metavar="NAME[,NAME]", help="run all but these")
    parser.add_argument("--quick", action="store_true",
                        help="short windows and fewer samples (a smoke run, rough figures)")
    parser.add_argument("--seed", type=int, default=1, help="the simulated fleet (default 1)")
    sizes = parser.add_argument_group("how many VMs")
    sizes.add_argument("--vms", type=int, default=100,
                       help="overhead, latency and start-up (default 100)")
    sizes.add_argument("--scale-vms", type=int, default=1000,
                       help="scale and keypress (default 1000)")
    sizes.add_argument("--memory-vms", type=int, default=1000, help="memory (default 1000)")
    sizes.add_argument("--bandwidth-vms", type=int, default=8, help="bandwidth (default 8)")
    lengths = parser.add_argument_group("durations and samples")
    lengths.add_argument("--seconds", type=float, default=20,
                         help="overhead: CPU window per client, in two rounds (default 20 s)")
    lengths.add_argument("--scale-seconds", type=float, default=20,
                         help="scale window (default 20 s)")
    lengths.add_argument("--bandwidth-seconds", type=float, default=15,
                         help="bandwidth window, for balloontui and for htop (default 15 s)")
    lengths.add_argument("--samples", type=int, default=120,
                         help="event → screen samples (default 120)")
    lengths.add_argument("--keypresses", type=int, default=15, help="default 15")
    lengths.add_argument("--startups", type=int, default=3, help="start-up runs (default 3)")
    lengths.add_argument("--memory-hours", default="24,30",
                         help="simulated hours at which RSS is read (default 24,30)")
    lengths.add_argument("--queries", type=int, default=1000,
                         help="calls per query-cost figure (default 1000)")
    parser.add_argument("--profile", choices=("tui", "core"),
                        help="instead of measuring, run py-spy on the TUI or the headless core "
                             "watching --vms VMs for --seconds, and print the top costs")
    parser.add_argument("--rate", type=int, default=100,
                        help="--profile: py-spy samples per second (default 100)")
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                        help="before each measurement, wait up to SECONDS for other processes "
                             "to use less than a quarter of a core (default: do not wait)")
    return parser


def chosen(args: argparse.Namespace) -> list[str]:
    names = list(MEASUREMENTS)
    if args.only:
        names = [n.strip() for n in args.only.split(",")]
    if args.skip:
        skipped = {n.strip() for n in args.skip.split(",")}
        names = [n for n in names if n not in skipped]
    unknown = [n for n in names if n not in MEASUREMENTS]
    if unknown:
        raise SystemExit(f"unknown measurement {', '.join(unknown)}; "
                         f"choose from {', '.join(MEASUREMENTS)}")
    return names


def run(names: list[str], args: argparse.Namespace) -> dict[str, Any]:
    quick = args.quick
    results: dict[str, Any] = {}

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def attempt(name: str, measure) -> None:  # type: ignore[no-untyped-def]
        if args.wait_quiet:
            wait_until_quiet(args.wait_quiet, say=say)
        started = time.monotonic()
        say(f"[bench] {name} …")
        mark = LoadMark.now()
        try:
            results[name] = measure()
        except (BenchError, RuntimeError, OSError) as err:
            results[name] = {"error": str(err)}
        # Timings suffer when the machine is busy: say how busy the rest of it was.
        results[name]["machine_others_cores"] = round(mark.others_cores(), 2)
        say(f"[bench] {name} done in {time.monotonic() - started:.0f} s")

    if "query-cost" in names:
        from balloontui.bench.query_cost import measure_query_cost
        attempt("query-cost", lambda: measure_query_cost(200 if quick else args.queries))
    if "overhead" in names:
        from balloontui.bench.overhead import measure_overhead
        attempt("overhead", lambda: measure_overhead(
            vms=args.vms, seconds=5 if quick else args.seconds, seed=args.seed))
    if "scale" in names or "keypress" in names:
        from balloontui.bench.scale import measure_scale
        attempt("scale", lambda: measure_scale(
            vms=args.scale_vms, seconds=8 if quick else args.scale_seconds, seed=args.seed,
            keypresses=(5 if quick else args.keypresses) if "keypress" in names else 0,
            measure_cpu="scale" in names))
        scale = results.get("scale", {})
        if "keypress" in names and "keypress_latency" in scale:
            results["keypress"] = {"vms": args.scale_vms, **scale.pop("keypress_latency")}
        if "scale" not in names and "error" not in scale:
            results.pop("scale", None)
    if "latency" in names:
        from balloontui.bench.latency import measure_event_latency
        attempt("latency", lambda: measure_event_latency(
            vms=args.vms, samples=30 if quick else args.samples, seed=args.seed))
    if "memory" in names:
        from balloontui.bench.memory import measure_memory
        hours = tuple(float(h) for h in args.memory_hours.split(","))
        attempt("memory", lambda: measure_memory(
            vms=100 if quick else args.memory_vms, hours=hours, seed=args.seed))
    if "bandwidth" in names:
        from balloontui.bench.bandwidth import measure_bandwidth
        attempt("bandwidth", lambda: measure_bandwidth(
            vms=args.bandwidth_vms, seconds=5 if quick else args.bandwidth_seconds,
            seed=args.seed))
    if "startup" in names:
        from balloontui.bench.startup import measure_startup
        attempt("startup", lambda: measure_startup(
            vms=args.vms, runs=1 if quick else args.startups, seed=args.seed))
    return results


def main() -> int:
    args = build_parser().parse_args()
    if args.profile:
        from balloontui.bench import profile

        result = profile.profile(args.profile, vms=args.vms, seconds=args.seconds,
                                 seed=args.seed, rate=args.rate)
        print(json.dumps(result, indent=2) if args.json else profile.render(result))
        return 0
    names = chosen(args)
    started = time.monotonic()
    results = run(names, args)
    about = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": machine(),
             "run_seconds": round(time.monotonic() - started), "quick": args.quick}
    if args.json:
        print(json.dumps({"run": about, "results": results}, indent=2))
    else:
        m = about["machine"]
        print(f"balloontui benchmark, {about['date']}: {m['cpu']} × {m['cores']} cores, "
              f"{m['memory_gib']} GiB, Python {m['python']}, Textual {m['textual']}; "
              f"run took {about['run_seconds']} s{' (--quick)' if args.quick else ''}\n")
        print(render(results))
    failed = [name for name, result in results.items()
              if isinstance(result, dict) and "error" in result]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
