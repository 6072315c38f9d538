#!/usr/bin/env python3
"""Model-based multi-fidelity search (issue 22): epochs until a sweep first trains a trial to its
last epoch within a regret target of the function's best, for TPE fitted on rung results
(`tpe.multi_fidelity`) against TPE fitted on final results and random search, under ASHA or
Hyperband, and (--optuna) Optuna 3.1's TPESampler with its HyperbandPruner on the same task.

  /usr/bin/python3 bench/multi_fidelity.py --fersweep build/cli/fersweep --seeds 30 [--workers 4]
      [--function learning_curve|hartmann6_fidelity] [--optuna]
      [--methods "tpe + asha,optuna tpe + hyperband"] [--probe-trials N]

In-process by default (one trial at a time: reproducible); --workers N runs each sweep under
`mpiexec -n N+1` with the benchmark's simulated seconds_per_epoch, so that trials overlap as on
a cluster, and the tables add the wall-clock seconds until the target (from the sweep's first
epoch; the coordinator's own cost per epoch included). Epochs are counted in the order the
coordinator stored them. Optuna's side runs the
function ported to Python (bench/functions.py, checked against fersweep's stored epochs in every
noise-free comparison) in `study.optimize(n_jobs=workers)`, sleeping the same simulated seconds
per epoch when workers > 1, and counts epochs in the order its threads reported them. Prints
Markdown tables (docs/BENCHMARKS.md, "Model-based multi-fidelity search"). --faces-seeds N adds
real training on synthetic faces (tiny VGGs, 24 px, 9 epochs): best val_macro_f1 per seed.
Standard library only, and Debian's python3-optuna for --optuna."""
import argparse
import dataclasses
import json
import math
import os
import random
import shutil
import statistics
import tempfile
import threading
import time

from asha_promotion import training_spec
from fersweep_cli import query, run_spec
from functions import HARTMANN6_MIN, hartmann6, learning_curve

EPOCHS = 27
BATCH_SIZES = [16, 32, 64, 128, 256]


@dataclasses.dataclass
class Task:
    """A benchmark function with epochs as its fidelity, as fersweep and the Python port see it."""
    metric: str
    maximize: bool
    optimum: float  # of `metric` at the last epoch
    regrets: str    # the default --regrets
    parameters: dict  # the spec's
    value: callable   # (params, epoch) -> the noise-free metric

    def reached(self, value, regret):
        return value >= self.optimum - regret if self.maximize else value <= self.optimum + regret


TASKS = {
    # learning_curve's ceiling, 0.92, is at lr 1e-3, dropout 0.3, batch 64, fully trained.
    "learning_curve": Task(
        "val_accuracy", True, 0.92, "0.02,0.05",
        {"lr": {"distribution": "log_uniform", "min": 1e-5, "max": 0.3},
         "dropout": {"distribution": "uniform", "min": 0.0, "max": 0.8},
         "batch_size": {"values": BATCH_SIZES}},
        lambda p, epoch: learning_curve(p["lr"], p["dropout"], p["batch_size"], epoch)),
    "hartmann6_fidelity": Task(
        "value", False, HARTMANN6_MIN, "0.2,0.5",
        {f"x{i}": {"distribution": "uniform", "min": 0.0, "max": 1.0} for i in range(1, 7)},
        lambda p, epoch: hartmann6([p[f"x{i}"] for i in range(1, 7)], epoch / EPOCHS)),
}
METHODS = {  # name: (method, tpe options, early-stopping rule)
    "random + asha": ("random", None, "asha"),
    "tpe + asha": ("tpe", {}, "asha"),
    "tpe multi_fidelity + asha": ("tpe", {"multi_fidelity": True}, "asha"),
    "tpe + hyperband": ("tpe", {}, "hyperband"),
    "tpe multi_fidelity + hyperband": ("tpe", {"multi_fidelity": True}, "hyperband"),
    "tpe + asha promotion": ("tpe", {}, "asha promotion"),
    "tpe multi_fidelity + asha promotion": ("tpe", {"multi_fidelity": True}, "asha promotion"),
    "tpe + asha measured": ("tpe", {}, "asha measured"),
    "tpe multi_fidelity + asha measured": ("tpe", {"multi_fidelity": True}, "asha measured"),
}
OPTUNA = "optuna tpe + hyperband"


def stopping_rule(rule, min_epochs, probe_trials=None):
    """A METHODS rule ("asha", "hyperband", "asha promotion", "asha measured": promotion with the
    measured ladder, with `probe_trials` probes where given, else the spec's default) as a spec's
    early_stopping."""
    kind, *mode = rule.split()
    document = {"type": kind, "min_epochs": min_epochs, "eta": 3}
    if mode in (["promotion"], ["measured"]):
        document["mode"] = "promotion"
    if mode == ["measured"]:
        document["ladder"] = "measured"
        if probe_trials is not None:
            document["probe_trials"] = probe_trials
    return document


def spec(task, seed, method, tpe, rule, noise, trials, seconds_per_epoch, min_epochs,
         probe_trials=None):
    document = {
        "name": "mf", "method": method, "seed": seed, "epochs": EPOCHS,
        "metric": {"name": TASKS[task].metric,
                   "goal": "maximize" if TASKS[task].maximize else "minimize"},
        "budget": {"trials": trials},
        "benchmark": {"function": task, "noise_sd": noise, "seconds_per_epoch": seconds_per_epoch},
        "early_stopping": stopping_rule(rule, min_epochs, probe_trials),
        "parameters": TASKS[task].parameters,
    }
    if tpe is not None:
        document["tpe"] = tpe
    return document


def faces_spec(seed, method, tpe, rule, trials):
    """Real training on synthetic faces (bench/asha_promotion.py's tiny VGGs at 24 px, 9 epochs),
    first rung at epoch 1, ranked by val_macro_f1."""
    document = training_spec(seed, trials, stopping_rule(rule, 1))
    document.update(name="mf", method=method, metric={"name": "val_macro_f1", "goal": "maximize"})
    if tpe is not None:
        document["tpe"] = tpe
    return document


def faces(fersweep, methods, seeds, trials, work, epoch_budget):
    """Best val_macro_f1 of a trial trained all 9 epochs, at the end and (with `epoch_budget`)
    among the trials whose 9th epoch came within the sweep's first `epoch_budget` epochs: the
    comparison at equal cost when the rules spend different numbers of epochs."""
    within = f" best within {epoch_budget} epochs |" if epoch_budget else ""
    print(f"\n| synthetic faces, {trials} trials x 9 epochs, first rung at epoch 1 | seed "
          f"| best val_macro_f1 |{within} epochs spent |")
    print("|---|---|---|---|" + ("---|" if within else ""))
    for name in methods:
        for seed in range(1, seeds + 1):
            db = run(fersweep, faces_spec(seed, *METHODS[name], trials), work, 1)
            epochs = stored_epochs(db, "val_macro_f1", 0)
            finals = [value for epoch, value, _ in epochs if epoch == 9]
            cell = ""
            if epoch_budget:
                early = [value for epoch, value, _ in epochs[:epoch_budget] if epoch == 9]
                cell = f" {max(early):.4f} |" if early else " none |"
            print(f"| {name} | {seed} | {max(finals, default=float('nan')):.4f} |{cell} "
                  f"{len(epochs)} |", flush=True)


def run(fersweep, document, work, workers):
    path, db = os.path.join(work, "spec.json"), os.path.join(work, "mf.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    # Promotion resumes paused trials from their saved state; stopping needs none.
    promotes = document.get("early_stopping", {}).get("mode") == "promotion"
    options, launcher = [] if promotes else ["--checkpoints", "none"], []
    if workers > 1:
        options.extend(["--threads", "1"])
        launcher = [shutil.which("mpiexec"), "--oversubscribe", "-n", str(workers + 1)]
    run_spec(fersweep, document, path, db, options, launcher)
    return db


def stored_epochs(db, metric, seconds_per_epoch):
    """Every (epoch, metric, seconds since the sweep's first epoch began) the sweep stored, in the
    order it stored them."""
    rows = query(db, "SELECT e.epoch, m.value, e.recorded_at FROM epochs e JOIN epoch_metrics m "
                 "ON m.trial_id = e.trial_id AND m.epoch = e.epoch AND m.name = ? "
                 "ORDER BY e.recorded_at, e.trial_id, e.epoch", (metric,))
    start = min(at for _, _, at in rows) - seconds_per_epoch
    return [(epoch, value, at - start) for epoch, value, at in rows]


def epochs_to(task, epochs, regret):
    """Epochs spent until some trial's last epoch is within `regret`; None if none did."""
    for spent, (epoch, value, _) in enumerate(epochs, start=1):
        if epoch == EPOCHS and task.reached(value, regret):
            return spent
    return None


def seconds_to(task, epochs, regret):
    """Wall-clock seconds from the sweep's start until some trial's last epoch is within
    `regret`; None if none did."""
    for epoch, value, seconds in epochs:
        if epoch == EPOCHS and task.reached(value, regret):
            return seconds
    return None


def best_final(task, epochs):
    finals = [value for epoch, value, _ in epochs if epoch == EPOCHS]
    return (max if task.maximize else min)(finals, default=float("nan"))


def check_port(task, db):
    """The port must give what fersweep stored (noise-free sweeps), or Optuna ran another task."""
    rows = query(db, "SELECT t.params_json, m.epoch, m.value FROM trials t JOIN epoch_metrics m ON "
                 "m.trial_id = t.id AND m.name = ? LIMIT 200", (task.metric,))
    for params, epoch, value in rows:
        ours = task.value(json.loads(params), epoch)
        if abs(ours - value) > 1e-9:
            raise SystemExit(f"bench/multi_fidelity.py: the Python port gives {ours} at {params}, "
                             f"epoch {epoch}; fersweep stored {value}")


def optuna_sweep(task, seed, noise, trials, min_epochs, workers, seconds_per_epoch):
    """Optuna 3.1's TPESampler (defaults) with HyperbandPruner on the task; the epochs in the
    order they were reported."""
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    epochs, lock = [], threading.Lock()
    start = time.time()

    def suggest(trial, name, domain):
        if "values" in domain:
            return trial.suggest_categorical(name, domain["values"])
        return trial.suggest_float(name, domain["min"], domain["max"],
                                   log=domain["distribution"] == "log_uniform")

    def objective(trial):
        params = {name: suggest(trial, name, domain) for name, domain in task.parameters.items()}
        rng = random.Random(seed * 1_000_003 + trial.number)
        for epoch in range(1, EPOCHS + 1):
            if seconds_per_epoch:
                time.sleep(seconds_per_epoch)
            value = task.value(params, epoch) + noise * rng.gauss(0, 1)
            with lock:
                epochs.append((epoch, value, time.time() - start))
            trial.report(value, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return value

    study = optuna.create_study(
        direction="maximize" if task.maximize else "minimize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.HyperbandPruner(min_resource=min_epochs, max_resource=EPOCHS,
                                              reduction_factor=3))
    study.optimize(objective, n_trials=trials, n_jobs=workers)
    return epochs


def summary(values, cap, digits=0):
    reached = [v for v in values if v is not None]
    filled = sorted(v if v is not None else cap + 1 for v in values)
    q = statistics.quantiles(filled, n=4, method="inclusive")
    median = statistics.median(filled)
    lower = f"{q[0]:.{digits}f}" if q[0] <= cap else ""
    return (f"{median:.{digits}f}" if median <= cap else "not reached",
            f"{lower}-{q[2]:.{digits}f}" if q[2] <= cap else f"{lower}-", len(reached))


def seconds_summary(values):
    """Median and interquartile range of seconds to target; a sweep that never got there counts as
    slower than any that did."""
    ordered = sorted(v if v is not None else math.inf for v in values)

    def quantile(p):  # statistics.quantiles' "inclusive" method, with infinity allowed
        position = p * (len(ordered) - 1)
        low = math.floor(position)
        if low == position or ordered[low + 1] == math.inf:
            return ordered[low] if low == position else math.inf
        return ordered[low] + (position - low) * (ordered[low + 1] - ordered[low])

    def shown(x):
        return f"{x:.1f}" if x < math.inf else ""

    median, q1, q3 = quantile(0.5), quantile(0.25), quantile(0.75)
    return (shown(median) or "not reached", f"{shown(q1)}-{shown(q3)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fersweep", required=True)
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--trials", type=int, default=150)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seconds-per-epoch", type=float, default=0.02)
    parser.add_argument("--function", choices=TASKS, default="learning_curve")
    parser.add_argument("--regrets", help="comma-separated (default: 0.02,0.05 for "
                        "learning_curve, 0.2,0.5 for hartmann6_fidelity)")
    parser.add_argument("--min-epochs", type=int, default=1, help="ASHA's first rung")
    parser.add_argument("--faces-seeds", type=int, default=0,
                        help="also real training on synthetic faces, this many seeds per method")
    parser.add_argument("--faces-trials", type=int, default=36)
    parser.add_argument("--faces-epoch-budget", type=int, default=0,
                        help="also the best among trials finished within this many epochs")
    parser.add_argument("--skip-curve", action="store_true", help="only the faces")
    parser.add_argument("--optuna", action="store_true",
                        help=f"also \"{OPTUNA}\" (needs python3-optuna)")
    parser.add_argument("--methods", help="comma-separated names from the tables (default: all)")
    parser.add_argument("--probe-trials", type=int,
                        help="the measured ladder's probe_trials (default: the spec's, 10)")
    args = parser.parse_args()
    methods = [*METHODS, OPTUNA] if args.optuna else list(METHODS)
    if args.methods:
        methods = [m.strip() for m in args.methods.split(",")]
        unknown = [m for m in methods if m not in METHODS and m != OPTUNA]
        if unknown:
            parser.error(f"--methods: unknown {unknown}; choose from {[*METHODS, OPTUNA]}")
    fersweep = os.path.abspath(args.fersweep)
    task = TASKS[args.function]
    regrets = [float(r) for r in (args.regrets or task.regrets).split(",")]
    cap = args.trials * EPOCHS
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="fersweep_mf_") as work:
        if args.faces_seeds:
            faces(fersweep, [m for m in methods if m != OPTUNA], args.faces_seeds,
                  args.faces_trials, work, args.faces_epoch_budget)
        if not args.skip_curve:
            print(f"{args.function}, {args.trials} trials of at most {EPOCHS} epochs, first rung "
                  f"at epoch {args.min_epochs}, {args.seeds} seeds, {args.workers} worker(s)\n")
            timed = " seconds to target: median | IQR |" if args.workers > 1 else ""
            print(f"| noise_sd | method | regret | epochs to target: median | IQR |{timed} "
                  f"seeds reaching it | best at epoch {EPOCHS}: median |")
            print("|---|---|---|---|---|---|---|" + ("---|---|" if timed else ""))
        for noise in (() if args.skip_curve else (0.0, 0.01)):
            spent = {(m, r): [] for m in methods for r in regrets}
            seconds = {(m, r): [] for m in methods for r in regrets}
            bests = {m: [] for m in methods}
            seconds_per_epoch = args.seconds_per_epoch if args.workers > 1 else 0
            for seed in range(1, args.seeds + 1):
                for name in methods:
                    if name == OPTUNA:
                        epochs = optuna_sweep(task, seed, noise, args.trials, args.min_epochs,
                                              args.workers, seconds_per_epoch)
                    else:
                        db = run(fersweep, spec(args.function, seed, *METHODS[name], noise,
                                                args.trials, seconds_per_epoch, args.min_epochs,
                                                args.probe_trials),
                                 work, args.workers)
                        if noise == 0 and OPTUNA in methods:
                            check_port(task, db)
                        epochs = stored_epochs(db, task.metric, seconds_per_epoch)
                    bests[name].append(best_final(task, epochs))
                    for r in regrets:
                        spent[name, r].append(epochs_to(task, epochs, r))
                        seconds[name, r].append(seconds_to(task, epochs, r))
            for r in regrets:
                for name in methods:
                    median, iqr, reached = summary(spent[name, r], cap)
                    timed = ""
                    if args.workers > 1:  # in-process, the seconds are the machine's, not a cluster's
                        timed = " {} | {} |".format(*seconds_summary(seconds[name, r]))
                    print(f"| {noise} | {name} | {r} | {median} | {iqr} |{timed} "
                          f"{reached}/{args.seeds} | {statistics.median(bests[name]):.4f} |",
                          flush=True)
    print(f"\n({time.time() - started:.0f} s, {args.workers} worker(s))")


if __name__ == "__main__":
    main()
