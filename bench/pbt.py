#!/usr/bin/env python3
"""Population Based Training against random search and ASHA at equal epochs (issue 20).

    cmake --build build -j2 --target fersweep
    python3 bench/pbt.py --fersweep build/cli/fersweep [--seeds 20] [--training-seeds 3]

Part 1, the schedule-dependent benchmark (`lr_schedule`, noise-free): lr (log 1e-5..0.3) and
dropout, 16 epochs per trial. PBT: a population of 8, perturbed every 2 epochs (128 epochs).
Random search: 8 trials of 16 epochs (128 epochs). ASHA (stopping, min 1, eta 3): 34 trials,
about as many epochs. The measure: the best final val_accuracy (at epoch 16).
Part 2, real training on synthetic faces (a VGG of 8 and 16 filters, 32 px, 2,400 training and
600 validation faces, 16 epochs), objective val_macro_f1: PBT with a population of 8 perturbed
every 4 epochs (128 epochs) against 8 random trials (128 epochs) and ASHA with 36 trials (about
as many epochs). The measure: the best final val_macro_f1.

Every sweep runs in-process (`fersweep run`, one trial at a time), so each result is
reproducible. Prints Markdown tables; docs/BENCHMARKS.md holds the last run. Standard library.
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


def curve_spec(seed, method):
    spec = {
        "name": f"schedule-{seed}-{method}", "seed": seed, "epochs": 16,
        "metric": {"name": "val_accuracy", "goal": "maximize"},
        "benchmark": {"function": "lr_schedule"},
        "parameters": {
            "lr": {"distribution": "log_uniform", "min": 1e-5, "max": 0.3},
            "dropout": {"distribution": "uniform", "min": 0.0, "max": 0.8},
        },
    }
    return with_method(spec, method, population=8, interval=2, asha_trials=34)


def training_spec(seed, method):
    spec = {
        "name": f"faces-{seed}-{method}", "seed": seed, "epochs": 16,
        "metric": {"name": "val_macro_f1", "goal": "maximize"},
        "data": {"train_size": 2400, "val_size": 600, "image_size": 32, "seed": 11},
        "resources": {"threads_per_worker": 2},
        "parameters": {
            "filters": {"value": [8, 16]},
            "convs_per_block": {"value": 1},
            "dense": {"value": [32]},
            "batch_size": {"value": 32},
            "lr": {"distribution": "log_uniform", "min": 1e-4, "max": 3e-2},
            "dropout": {"distribution": "uniform", "min": 0.0, "max": 0.6},
        },
    }
    return with_method(spec, method, population=8, interval=4, asha_trials=36)


def with_method(spec, method, population, interval, asha_trials):
    if method == "pbt":
        spec["method"] = "pbt"
        spec["pbt"] = {"population": population, "perturbation_interval": interval}
        for name in ("lr", "dropout"):
            spec["parameters"][name]["mutable"] = True
    elif method == "random":
        spec["method"] = "random"
        spec["budget"] = {"trials": population}
    else:
        spec["method"] = "random"
        spec["budget"] = {"trials": asha_trials}
        spec["early_stopping"] = {"type": "asha", "min_epochs": 1, "eta": 3}
    return spec


def run_sweep(fersweep, spec, workdir):
    db = os.path.join(workdir, spec["name"] + ".db")
    spec_path = os.path.join(workdir, spec["name"] + ".json")
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    subprocess.run([fersweep, "run", spec_path, "--db", db, "--quiet", "--checkpoints",
                    os.path.join(workdir, spec["name"] + "_checkpoints")],
                   check=True, stdout=subprocess.DEVNULL)
    with sqlite3.connect(db) as con:
        best = con.execute("SELECT max(value) FROM epoch_metrics WHERE name = ? AND epoch = ?",
                           (spec["metric"]["name"], spec["epochs"])).fetchone()[0]
        epochs = con.execute("SELECT count(*) FROM epochs").fetchone()[0]
        redone = con.execute("SELECT coalesce(sum(epochs_redone), 0) FROM trials").fetchone()[0]
    return best, epochs + redone


def compare(fersweep, make_spec, seeds, workdir, title, per_seed_rows):
    print(f"\n## {title}\n")
    results, started = {}, time.time()
    for s in seeds:
        for method in ("random", "asha", "pbt"):
            results[(method, s)] = run_sweep(fersweep, make_spec(s, method), workdir)
    if per_seed_rows:
        print("| seed | random | asha | pbt |")
        print("|---|---|---|---|")
        for s in seeds:
            cells = [f"{results[(m, s)][0]:.4f} ({results[(m, s)][1]} ep)"
                     for m in ("random", "asha", "pbt")]
            print(f"| {s} | " + " | ".join(cells) + " |")
        print()
    print("| method | median best | mean best | median epochs | PBT better / same / worse |")
    print("|---|---|---|---|---|")
    for method in ("random", "asha", "pbt"):
        bests = [results[(method, s)][0] for s in seeds]
        spent = [results[(method, s)][1] for s in seeds]
        versus = "-"
        if method != "pbt":
            pbt = [results[("pbt", s)][0] for s in seeds]
            versus = (f"{sum(p > b + 1e-12 for p, b in zip(pbt, bests))} / "
                      f"{sum(abs(p - b) <= 1e-12 for p, b in zip(pbt, bests))} / "
                      f"{sum(p < b - 1e-12 for p, b in zip(pbt, bests))}")
        print(f"| {method} | {statistics.median(bests):.4f} | {statistics.mean(bests):.4f} | "
              f"{statistics.median(spent):.0f} | {versus} |")
    print(f"\n({time.time() - started:.0f} s)")


def lr_schedule_step(lr, dropout, skill):
    """benchmarks/functions.cc's lr_schedule_step, line for line."""
    v = math.log10(lr)
    speed = min(0.6, 0.6 * 10 ** (0.7 * (v + 1)))
    calm = max(0.0, (v + 4) / 3)
    ceiling = min(0.99, max(1 / 7, 0.97 - 0.35 * calm * calm - 0.3 * (dropout - 0.3) ** 2))
    return skill + speed * (ceiling - skill)


def lr_schedule_optimum(epochs=16, dropout=0.3):
    """The best fixed lr on a fine log grid, and a greedy decaying schedule (each epoch the rate
    that ends best if held from there on): what a method that fixes the rate cannot pass, and
    what changing it reaches."""
    def run(rates, skill=1 / 7):
        for lr in rates:
            skill = lr_schedule_step(lr, dropout, skill)
        return skill
    fine = [10 ** (-6 + 6 * i / 600) for i in range(601)]
    fixed_value, fixed_lr = max((run([lr] * epochs), lr) for lr in fine)
    coarse = [10 ** (-6 + 6 * i / 60) for i in range(61)]
    skill = 1 / 7
    for e in range(epochs):
        lr = max(coarse, key=lambda l: max(run([l2] * (epochs - e - 1), lr_schedule_step(l, dropout, skill))
                                           for l2 in coarse))
        skill = lr_schedule_step(lr, dropout, skill)
    return fixed_value, fixed_lr, skill


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fersweep", default="build/cli/fersweep")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--training-seeds", type=int, default=3)
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--skip-curve", action="store_true")
    args = parser.parse_args()
    fersweep = os.path.abspath(args.fersweep)
    fixed, fixed_lr, scheduled = lr_schedule_optimum()
    with tempfile.TemporaryDirectory() as workdir:
        if not args.skip_curve:
            compare(fersweep, curve_spec, range(1, args.seeds + 1), workdir,
                    f"Schedule-dependent benchmark (lr_schedule), {args.seeds} seeds: best final "
                    f"val_accuracy; the best fixed lr ({fixed_lr:.3f}) reaches {fixed:.4f}, a "
                    f"greedy decaying schedule {scheduled:.4f}",
                    False)
        if not args.skip_training:
            compare(fersweep, training_spec, range(1, args.training_seeds + 1), workdir,
                    f"Real training on synthetic faces, {args.training_seeds} seeds: best final "
                    f"val_macro_f1", True)


if __name__ == "__main__":
    main()
