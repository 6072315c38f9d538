#!/usr/bin/env python3
"""Model-based multi-fidelity search (issue 22): epochs until a sweep first trains a trial to its
last epoch within a regret target of the function's best, for TPE fitted on rung results
(`tpe.multi_fidelity`) against TPE fitted on final results and random search, all under ASHA.

  /usr/bin/python3 bench/multi_fidelity.py --fersweep build/cli/fersweep --seeds 30 [--workers 4]

In-process by default (one trial at a time: reproducible); --workers N runs each sweep under
`mpiexec -n N+1` with the benchmark's simulated seconds_per_epoch, so that trials overlap as on
a cluster. Epochs are counted in the order the coordinator stored them. Prints Markdown tables
(docs/BENCHMARKS.md, "Model-based multi-fidelity search"). --faces-seeds N adds real training
on synthetic faces (tiny VGGs, 24 px, 9 epochs): best val_macro_f1 per seed. Standard library
only."""
import argparse
import os
import shutil
import statistics
import tempfile
import time

from asha_promotion import training_spec
from fersweep_cli import query, run_spec

EPOCHS = 27
BEST = 0.92  # learning_curve's ceiling: lr 1e-3, dropout 0.3, batch 64, fully trained
METHODS = {
    "random + asha": ("random", None),
    "tpe + asha": ("tpe", {}),
    "tpe multi_fidelity + asha": ("tpe", {"multi_fidelity": True}),
}


def spec(seed, method, tpe, noise, trials, seconds_per_epoch, min_epochs):
    document = {
        "name": "mf", "method": method, "seed": seed, "epochs": EPOCHS,
        "metric": {"name": "val_accuracy", "goal": "maximize"}, "budget": {"trials": trials},
        "benchmark": {"function": "learning_curve", "noise_sd": noise,
                      "seconds_per_epoch": seconds_per_epoch},
        "early_stopping": {"type": "asha", "min_epochs": min_epochs, "eta": 3},
        "parameters": {
            "lr": {"distribution": "log_uniform", "min": 1e-5, "max": 0.3},
            "dropout": {"distribution": "uniform", "min": 0.0, "max": 0.8},
            "batch_size": {"values": [16, 32, 64, 128, 256]},
        },
    }
    if tpe is not None:
        document["tpe"] = tpe
    return document


def faces_spec(seed, tpe, trials):
    """Real training on synthetic faces (bench/asha_promotion.py's tiny VGGs at 24 px, 9 epochs),
    TPE under ASHA from epoch 1, ranked by val_macro_f1."""
    document = training_spec(seed, trials, {"type": "asha", "min_epochs": 1, "eta": 3})
    document.update(name="mf", method="tpe", tpe=tpe,
                    metric={"name": "val_macro_f1", "goal": "maximize"})
    return document


def faces(fersweep, seeds, trials, work):
    print(f"\n| synthetic faces, {trials} trials x 9 epochs, ASHA from epoch 1 | seed "
          "| best val_macro_f1 | epochs spent |")
    print("|---|---|---|---|")
    for name, tpe in (("tpe + asha", {}), ("tpe multi_fidelity + asha", {"multi_fidelity": True})):
        for seed in range(1, seeds + 1):
            db = run(fersweep, faces_spec(seed, tpe, trials), work, 1)
            best = query(db, "SELECT max(value) FROM trial_metrics m JOIN trials t ON t.id = "
                         "m.trial_id WHERE m.name = 'val_macro_f1' AND t.status = 'finished'")
            spent = query(db, "SELECT count(*) FROM epochs")[0][0]
            print(f"| {name} | {seed} | {best[0][0]:.4f} | {spent} |", flush=True)


def run(fersweep, document, work, workers):
    path, db = os.path.join(work, "spec.json"), os.path.join(work, "mf.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    options, launcher = ["--checkpoints", "none"], []
    if workers > 1:
        options.extend(["--threads", "1"])
        launcher = [shutil.which("mpiexec"), "--oversubscribe", "-n", str(workers + 1)]
    run_spec(fersweep, document, path, db, options, launcher)
    return db


def epochs_to(db, target):
    """Epochs stored until some trial's last epoch reaches `target`; None if none did."""
    rows = query(db, "SELECT e.epoch, m.value FROM epochs e JOIN epoch_metrics m ON m.trial_id = "
                 "e.trial_id AND m.epoch = e.epoch AND m.name = 'val_accuracy' "
                 "ORDER BY e.recorded_at, e.trial_id, e.epoch")
    for spent, (epoch, value) in enumerate(rows, start=1):
        if epoch == EPOCHS and value >= target:
            return spent
    return None


def best_final(db):
    return query(db, "SELECT max(value) FROM epoch_metrics WHERE name = 'val_accuracy' "
                 "AND epoch = ?", (EPOCHS,))[0][0] or 0.0


def summary(values, cap):
    reached = [v for v in values if v is not None]
    filled = sorted(v if v is not None else cap + 1 for v in values)
    q = statistics.quantiles(filled, n=4, method="inclusive")
    median = statistics.median(filled)
    return (f"{median:.0f}" if median <= cap else "not reached",
            f"{q[0]:.0f}-{q[2]:.0f}" if q[2] <= cap else f"{q[0]:.0f}-", len(reached))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fersweep", required=True)
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--trials", type=int, default=150)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seconds-per-epoch", type=float, default=0.02)
    parser.add_argument("--regrets", default="0.02,0.05")
    parser.add_argument("--min-epochs", type=int, default=1, help="ASHA's first rung")
    parser.add_argument("--faces-seeds", type=int, default=0,
                        help="also real training on synthetic faces, this many seeds per method")
    parser.add_argument("--faces-trials", type=int, default=36)
    parser.add_argument("--skip-curve", action="store_true")
    args = parser.parse_args()
    fersweep = os.path.abspath(args.fersweep)
    regrets = [float(r) for r in args.regrets.split(",")]
    cap = args.trials * EPOCHS
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="fersweep_mf_") as work:
        if args.faces_seeds:
            faces(fersweep, args.faces_seeds, args.faces_trials, work)
        if not args.skip_curve:
            print(f"| noise_sd | method | regret | epochs to target: median | IQR | "
                  f"seeds reaching it | best at epoch {EPOCHS}: median |")
            print("|---|---|---|---|---|---|---|")
        for noise in (() if args.skip_curve else (0.0, 0.01)):
            spent = {(m, r): [] for m in METHODS for r in regrets}
            bests = {m: [] for m in METHODS}
            for seed in range(1, args.seeds + 1):
                for name, (method, tpe) in METHODS.items():
                    db = run(fersweep, spec(seed, method, tpe, noise, args.trials,
                                            args.seconds_per_epoch if args.workers > 1 else 0,
                                            args.min_epochs),
                             work, args.workers)
                    bests[name].append(best_final(db))
                    for r in regrets:
                        spent[name, r].append(epochs_to(db, BEST - r))
            for r in regrets:
                for name in METHODS:
                    median, iqr, reached = summary(spent[name, r], cap)
                    print(f"| {noise} | {name} | {r} | {median} | {iqr} | "
                          f"{reached}/{args.seeds} | {statistics.median(bests[name]):.4f} |",
                          flush=True)
    print(f"\n({time.time() - started:.0f} s, {args.workers} worker(s))")


if __name__ == "__main__":
    main()
