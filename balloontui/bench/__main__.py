"""``python -m balloontui.bench``: what balloontui costs the host it watches."""

from __future__ import annotations

import argparse
import json

from balloontui.bench.query_cost import measure_query_cost


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m balloontui.bench", description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--queries", type=int, default=3000)
    args = parser.parse_args()
    results = {"query_cost_seconds": measure_query_cost(args.queries)}
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print("client CPU per call (one simulated VM in another process)")
    for name, seconds in results["query_cost_seconds"].items():
        print(f"  {name:<55} {seconds * 1e6:8.1f} µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
