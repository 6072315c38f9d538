#!/usr/bin/env python3
"""Promotion-based ASHA against stopping ASHA and against no early stopping (issue 20).

    cmake --build build -j2 --target fersweep
    python3 bench/asha_promotion.py --fersweep build/cli/fersweep [--seeds 20] [--training-seeds 3]

The measure: epochs spent until the sweep first trains, to its last epoch, a trial that reaches
the full-budget best (the best final val_accuracy of random search without early stopping, same
seed, same configs in the same order), or that best - 0.01. Epochs are counted in the order the
coordinator stored them (`epochs.recorded_at`), every trial's, pruned and paused ones included:
a promoted trial's late epochs count when they happen, not when it started.

Part 1, the learning-curve benchmark: random search over lr (log 1e-5..0.3), dropout and batch
size, 27 epochs per trial. Full budget: 60 trials; early-stopped runs may start 180.
Part 2, real training on synthetic faces (tiny VGGs, 24 px, 1,200 training images, 9 epochs):
full budget 12 trials; early-stopped runs may start 36. Each part runs `fersweep run`
in-process (one trial at a time), so the order of events, and the result, is reproducible.

Prints Markdown tables; docs/BENCHMARKS.md holds the last run. Standard library only.
"""
import argparse
import json
import math
import os
import sqlite3
import statistics
import subprocess
import tempfile
import time

RULES = {
    "asha, min 1, eta 3": {"type": "asha", "min_epochs": 1, "eta": 3},
    "asha, min 3, eta 3": {"type": "asha", "min_epochs": 3, "eta": 3},
    "hyperband, min 1, eta 3": {"type": "hyperband", "min_epochs": 1, "eta": 3},
}


def curve_spec(seed, trials, rule):
    spec = {
        "name": f"curve-{seed}", "method": "random", "seed": seed, "epochs": 27,
        "metric": {"name": "val_accuracy", "goal": "maximize"}, "budget": {"trials": trials},
        "benchmark": {"function": "learning_curve"},
        "parameters": {
            "lr": {"distribution": "log_uniform", "min": 1e-5, "max": 0.3},
            "dropout": {"distribution": "uniform", "min": 0.0, "max": 0.8},
            "batch_size": {"values": [16, 32, 64, 128, 256]},
        },
    }
    if rule:
        spec["early_stopping"] = rule
    return spec


def training_spec(seed, trials, rule):
    spec = {
        "name": f"faces-{seed}", "method": "random", "seed": seed, "epochs": 9,
        "metric": {"name": "val_accuracy", "goal": "maximize"}, "budget": {"trials": trials},
        "data": {"train_size": 1200, "val_size": 300, "image_size": 24, "seed": 11},
        "resources": {"threads_per_worker": 2},
        "parameters": {
            "filters": {"values": [[8, 16], [8, 16, 32], [16, 32]]},
            "convs_per_block": {"value": 1},
            "dense": {"values": [[32], [64]]},
            "lr": {"distribution": "log_uniform", "min": 1e-4, "max": 3e-2},
            "dropout": {"distribution": "uniform", "min": 0.0, "max": 0.6},
            "batch_size": {"values": [32, 64]},
            "schedule": {"values": ["constant", "cosine"]},
        },
    }
    if rule:
        spec["early_stopping"] = rule
    return spec


def run_sweep(fersweep, spec, workdir):
    name = f"{spec['name']}-{abs(hash(json.dumps(spec, sort_keys=True))):x}"
    spec_path = os.path.join(workdir, name + ".json")
    db = os.path.join(workdir, name + ".db")
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    subprocess.run([fersweep, "run", spec_path, "--db", db, "--quiet", "--checkpoints",
                    os.path.join(workdir, name + "_checkpoints")],
                   check=True, stdout=subprocess.DEVNULL)
    return db


def epochs_to_reach(db, target, last_epoch):
    """Epochs stored, in the order stored, until some trial's `last_epoch` reaches `target`."""
    with sqlite3.connect(db) as con:
        rows = con.execute(
            "SELECT e.epoch, m.value FROM epochs e JOIN epoch_metrics m "
            "ON m.trial_id = e.trial_id AND m.epoch = e.epoch AND m.name = 'val_accuracy' "
            "ORDER BY e.recorded_at, e.trial_id, e.epoch").fetchall()
    for spent, (epoch, value) in enumerate(rows, start=1):
        if epoch == last_epoch and value >= target - 1e-12:
            return spent
    return None


def total_epochs(db):
    with sqlite3.connect(db) as con:
        return con.execute("SELECT count(*) FROM epochs").fetchone()[0]


def best_final(db, last_epoch):
    with sqlite3.connect(db) as con:
        return con.execute(
            "SELECT max(value) FROM epoch_metrics WHERE name = 'val_accuracy' AND epoch = ?",
            (last_epoch,)).fetchone()[0]


def compare(fersweep, make_spec, seeds, full_trials, last_epoch, workdir, title):
    print(f"\n## {title}\n")
    print("| early stopping | mode | seeds reaching best | median epochs | seeds within 0.01 "
          "| median epochs (within 0.01) | median epochs in all | median best final |")
    print("|---|---|---|---|---|---|---|---|")
    targets, started = {}, time.time()
    for s in seeds:
        db = run_sweep(fersweep, make_spec(s, full_trials, None), workdir)
        targets[s] = best_final(db, last_epoch)
    full = full_trials * last_epoch
    print(f"| none (full budget) | - | {len(seeds)}/{len(seeds)} | {full} | "
          f"{len(seeds)}/{len(seeds)} | {full} | {full} | "
          f"{statistics.median(targets.values()):.4f} |")
    median = lambda v: f"{statistics.median(v):.0f}" if v else "-"
    paired = []
    for name, rule in RULES.items():
        per_seed = {}  # mode -> epochs to reach the best, per seed (inf: never)
        for mode in ("stop", "promotion"):
            exact, close, spent, bests = [], [], [], []
            for s in seeds:
                spec = make_spec(s, 3 * full_trials, dict(rule, mode=mode))
                db = run_sweep(fersweep, spec, workdir)
                reached = epochs_to_reach(db, targets[s], last_epoch)
                near = epochs_to_reach(db, targets[s] - 0.01, last_epoch)
                per_seed.setdefault(mode, []).append(math.inf if reached is None else reached)
                if reached is not None:
                    exact.append(reached)
                if near is not None:
                    close.append(near)
                spent.append(total_epochs(db))
                bests.append(best_final(db, last_epoch) or 0.0)
            print(f"| {name} | {mode} | {len(exact)}/{len(seeds)} | {median(exact)} "
                  f"| {len(close)}/{len(seeds)} | {median(close)} | {median(spent)} "
                  f"| {statistics.median(bests):.4f} |", flush=True)
        pairs = list(zip(per_seed["promotion"], per_seed["stop"]))
        paired.append((name, sum(p < q for p, q in pairs), sum(p == q for p, q in pairs),
                       sum(p > q for p, q in pairs)))
    print("\nSeed by seed, epochs to reach the best (never reaching counts as more than any):\n")
    print("| early stopping | promotion fewer | same | promotion more |")
    print("|---|---|---|---|")
    for name, fewer, same, more in paired:
        print(f"| {name} | {fewer} | {same} | {more} |")
    print(f"\n({time.time() - started:.0f} s)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fersweep", default="build/cli/fersweep")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--training-seeds", type=int, default=3)
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--skip-curve", action="store_true")
    args = parser.parse_args()
    fersweep = os.path.abspath(args.fersweep)
    with tempfile.TemporaryDirectory() as workdir:
        if not args.skip_curve:
            compare(fersweep, curve_spec, range(1, args.seeds + 1), 60, 27, workdir,
                    f"Learning-curve benchmark, {args.seeds} seeds: 60 trials x 27 epochs = "
                    f"1620 epochs at full budget; early stopping may start 180")
        if not args.skip_training:
            compare(fersweep, training_spec, range(1, args.training_seeds + 1), 12, 9, workdir,
                    f"Real training on synthetic faces, {args.training_seeds} seeds: 12 trials "
                    f"x 9 epochs = 108 epochs at full budget; early stopping may start 36")


if __name__ == "__main__":
    main()
