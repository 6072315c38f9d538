#!/usr/bin/env python3
"""Warm starts (issue 22): trials until a TPE sweep is within a regret target of the optimum,
cold against warm-started from an earlier sweep of the same function (another seed), and with
the earlier sweep's best config given as an initial config instead. Median and interquartile
range over the seeds; a sweep that never reaches the target counts as budget + 1.

  /usr/bin/python3 bench/warm_start.py --fersweep build/cli/fersweep --seeds 30

Prints a Markdown table (docs/BENCHMARKS.md, "Warm starts")."""
import argparse
import json
import os
import statistics
import tempfile

from fersweep_cli import query, run_spec

FUNCTIONS = {
    # name: (parameter ranges, optimum, regret targets)
    "branin": ({"x1": (-5, 10), "x2": (0, 15)}, 0.397887357729738, (0.5, 0.1)),
    "hartmann6": ({f"x{i}": (0, 1) for i in range(1, 7)}, -3.32236801141551, (0.5, 0.2)),
}


def spec(function, seed, trials, name):
    ranges, _, _ = FUNCTIONS[function]
    return {"name": name, "method": "tpe", "seed": seed, "budget": {"trials": trials},
            "benchmark": {"function": function},
            "metric": {"name": "value", "goal": "minimize"},
            "parameters": {k: {"distribution": "uniform", "min": lo, "max": hi}
                           for k, (lo, hi) in ranges.items()}}


def run(binary, work, document, db):
    run_spec(binary, document, os.path.join(work, document["name"] + ".json"), db)


def values(db, name):
    rows = query(
        db, "SELECT t.params_json, m.value FROM trials t JOIN sweeps s ON s.id = t.sweep_id "
        "JOIN trial_metrics m ON m.trial_id = t.id AND m.name = 'value' "
        "WHERE s.name = ? ORDER BY t.number", (name,))
    return [(json.loads(p), v) for p, v in rows]


def trials_to_target(results, target, budget):
    for i, (_, value) in enumerate(results):
        if value <= target:
            return i + 1
    return budget + 1


def quartiles(xs):
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], statistics.median(xs), q[2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fersweep", required=True)
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--source-trials", type=int, default=60)
    args = parser.parse_args()
    print(f"| function | regret target | start | trials to target: median (IQR) | "
          f"not reached in {args.trials} | best after {args.trials // 2} trials, median |")
    print("|---|---|---|---|---|---|")
    for function, (_, optimum, regrets) in FUNCTIONS.items():
        starts = ("cold", "warm_start", "best_as_initial_config")
        outcome = {(start, regret): [] for start in starts for regret in regrets}
        best_half = {start: [] for start in starts}
        for seed in range(1, args.seeds + 1):
            with tempfile.TemporaryDirectory(prefix="fersweep_warm_") as work:
                db = os.path.join(work, "w.db")
                run(args.fersweep, work, spec(function, 10_000 + seed, args.source_trials,
                                              "earlier"), db)
                earlier = values(db, "earlier")
                best_earlier = min(earlier, key=lambda r: r[1])[0]
                cold = spec(function, seed, args.trials, "cold")
                warm = dict(cold, name="warm_start",
                            warm_start={"db": db, "sweep": "earlier"})
                initial = dict(cold, name="best_as_initial_config",
                               initial_configs=[best_earlier])
                for document in (cold, warm, initial):
                    run(args.fersweep, work, document, db)
                    results = values(db, document["name"])
                    for regret in regrets:
                        outcome[document["name"], regret].append(
                            trials_to_target(results, optimum + regret, args.trials))
                    best_half[document["name"]].append(
                        min(v for _, v in results[:args.trials // 2]))
        for (start, regret), counts in sorted(outcome.items(), key=lambda kv: -kv[0][1]):
            q1, median, q3 = quartiles(counts)
            missed = sum(c > args.trials for c in counts)
            print(f"| {function} | {regret} | {start.replace('_', ' ')} | {median:g} "
                  f"({q1:g}-{q3:g}) | {missed}/{args.seeds} | "
                  f"{statistics.median(best_half[start]):.4f} |")


if __name__ == "__main__":
    main()
