#!/usr/bin/env python3
"""Search quality of fersweep's samplers and early stopping, side by side with Optuna 3.1.

    cmake --build build -j2
    python3 bench/search_vs_optuna.py --fersweep build/cli/fersweep [--seeds 10] [--trials 50]

Part 1: Branin and Hartmann6, `--trials` sequential trials, `--seeds` seeds. fersweep runs the
real CLI (`fersweep run` on a generated benchmark spec, in-process) for tpe, random and sobol;
Optuna runs TPESampler (defaults, and multivariate=True) and RandomSampler on the same
functions. Reported: median over seeds of the best value found, and of the regret.

Part 2: the learning-curve benchmark, 27 epochs per trial. Full-budget random search
(`--curve-trials` trials, no early stopping) against random search with ASHA (min 1 epoch,
eta 3) fed the same configs in the same order and allowed 3x more trials: epochs each needs to
reach the full-budget run's best validation accuracy.

Needs Debian's python3-optuna (3.1) and python3-scipy: run it with /usr/bin/python3. Prints
Markdown tables; docs/BENCHMARKS.md holds the last run.
"""
import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import tempfile

import warnings

import optuna

from functions import BRANIN_MIN, HARTMANN6_MIN, branin, hartmann6

FUNCTIONS = {
    "branin": ({"x1": (-5, 10), "x2": (0, 15)}, lambda p: branin(p["x1"], p["x2"]), BRANIN_MIN),
    "hartmann6": ({f"x{i}": (0, 1) for i in range(1, 7)},
                  lambda p: hartmann6([p[f"x{i}"] for i in range(1, 7)]), HARTMANN6_MIN),
}


def fersweep_run(binary, spec, workdir):
    spec_path = os.path.join(workdir, "spec.json")
    db = os.path.join(workdir, "bench.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    subprocess.run([binary, "run", spec_path, "--db", db, "--quiet"], check=True,
                   stdout=subprocess.DEVNULL)
    return db


def newest_sweep_trials(db):
    """(number, status, epochs_completed, objective) of every trial of the newest sweep."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = con.execute("SELECT number, status, epochs_completed, objective FROM trials "
                       "WHERE sweep_id = (SELECT max(id) FROM sweeps) ORDER BY number").fetchall()
    con.close()
    return rows


def fersweep_best(binary, function, method, seed, trials, workdir, tpe=None):
    space, _, _ = FUNCTIONS[function]
    spec = {
        "name": f"{function}-{method}-{seed}", "method": method, "seed": seed, "epochs": 1,
        "metric": {"name": "value", "goal": "minimize"}, "budget": {"trials": trials},
        "benchmark": {"function": function},
        "parameters": {k: {"distribution": "uniform", "min": lo, "max": hi}
                       for k, (lo, hi) in space.items()},
    }
    if tpe:
        spec["tpe"] = tpe
    db = fersweep_run(binary, spec, workdir)
    return min(objective for _, _, _, objective in newest_sweep_trials(db))


def optuna_best(function, sampler, trials):
    space, f, _ = FUNCTIONS[function]
    study = optuna.create_study(direction="minimize", sampler=sampler)
    study.optimize(lambda t: f({k: t.suggest_float(k, lo, hi) for k, (lo, hi) in space.items()}),
                   n_trials=trials)
    return study.best_value


class ScaleFixedTruncnorm:
    """Optuna 3.1.0's _truncnorm.logpdf leaves out the -log(scale) term, so its TPE compares
    unnormalised kernel densities (optuna/optuna#5109, fixed by #5110). Inside this context the term is
    restored, to show how much of Optuna 3.1's result comes from that."""

    def __enter__(self):
        from optuna.samplers._tpe import _truncnorm
        import numpy as np
        self.module, self.original = _truncnorm, _truncnorm.logpdf
        _truncnorm.logpdf = lambda x, a, b, loc=0, scale=1: (
            self.original(x, a, b, loc, scale) - np.log(scale))

    def __exit__(self, *exc):
        self.module.logpdf = self.original


def optuna_fixed_best(function, multivariate, trials, seed):
    with ScaleFixedTruncnorm():
        return optuna_best(function, optuna.samplers.TPESampler(seed=seed,
                                                                multivariate=multivariate), trials)


def curve_spec(seed, trials, early_stopping):
    spec = {
        "name": f"curve-{seed}", "method": "random", "seed": seed,
        "epochs": 27, "metric": {"name": "val_accuracy", "goal": "maximize"},
        "budget": {"trials": trials}, "benchmark": {"function": "learning_curve"},
        "parameters": {
            "lr": {"distribution": "log_uniform", "min": 1e-5, "max": 0.3},
            "dropout": {"distribution": "uniform", "min": 0.0, "max": 0.8},
            "batch_size": {"values": [16, 32, 64, 128, 256]},
        },
    }
    if early_stopping:
        spec["early_stopping"] = early_stopping
    return spec


def epochs_to_reach(db, target):
    """Epochs spent, in trial order, until a finished trial reaches `target` (None if never)."""
    spent = 0
    for _, status, epochs, objective in newest_sweep_trials(db):
        spent += epochs
        if status == "finished" and objective >= target - 1e-12:
            return spent
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fersweep", default="build/cli/fersweep")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--curve-trials", type=int, default=60)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    seeds = range(1, args.seeds + 1)

    print(f"## Best value after {args.trials} trials, median over {args.seeds} seeds\n")
    print("| function | optimum | sampler | median best | median regret |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as workdir:
        for function, (_, _, minimum) in FUNCTIONS.items():
            rows = {
                "fersweep tpe (default: multivariate)": [fersweep_best(args.fersweep, function, "tpe", s, args.trials, workdir)
                                 for s in seeds],
                "optuna 3.1 TPESampler()": [
                    optuna_best(function, optuna.samplers.TPESampler(seed=s), args.trials)
                    for s in seeds],
                "optuna 3.1 TPESampler(multivariate=True)": [
                    optuna_best(function, optuna.samplers.TPESampler(seed=s, multivariate=True),
                                args.trials) for s in seeds],
                "optuna 3.1 TPESampler(), logpdf scale fixed": [
                    optuna_fixed_best(function, False, args.trials, s) for s in seeds],
                "optuna 3.1 TPESampler(multivariate=True), logpdf scale fixed": [
                    optuna_fixed_best(function, True, args.trials, s) for s in seeds],
                "fersweep tpe, bandwidth 0.2 (Optuna's)": [
                    fersweep_best(args.fersweep, function, "tpe", s, args.trials, workdir,
                                  {"bandwidth": 0.2}) for s in seeds],
                "fersweep tpe, univariate": [
                    fersweep_best(args.fersweep, function, "tpe", s, args.trials, workdir,
                                  {"multivariate": False}) for s in seeds],
                "fersweep sobol": [fersweep_best(args.fersweep, function, "sobol", s, args.trials,
                                                 workdir) for s in seeds],
                "fersweep random": [fersweep_best(args.fersweep, function, "random", s, args.trials,
                                                  workdir) for s in seeds],
                "optuna 3.1 RandomSampler": [
                    optuna_best(function, optuna.samplers.RandomSampler(seed=s), args.trials)
                    for s in seeds],
            }
            for name, bests in rows.items():
                best = statistics.median(bests)
                print(f"| {function} | {minimum:.5f} | {name} | {best:.5f} | {best - minimum:.5f} |")

        print(f"\n## Early stopping against full-budget random search, learning curve\n")
        print(f"Random search, 27 epochs per trial. Full budget: {args.curve_trials} trials x 27 "
              f"epochs = {27 * args.curve_trials} epochs; its best final val_accuracy is the "
              f"target. Early-stopped runs see the same configs in the same order and may run "
              f"{3 * args.curve_trials} trials. Epochs counted until a trial that ran all 27 "
              f"epochs reaches the target (or target - 0.01); medians over the seeds that "
              f"reached it.\n")
        print("| early stopping | seeds reaching target | median epochs | seeds within 0.01 "
              "| median epochs (within 0.01) |")
        print("|---|---|---|---|---|")
        targets = {}
        for s in seeds:
            db = fersweep_run(args.fersweep, curve_spec(s, args.curve_trials, None), workdir)
            targets[s] = max(objective for _, _, _, objective in newest_sweep_trials(db))
        print(f"| none (full budget) | {args.seeds}/{args.seeds} | {27 * args.curve_trials} "
              f"| {args.seeds}/{args.seeds} | {27 * args.curve_trials} |")
        rules = {
            "asha, min 1, eta 3": {"type": "asha", "min_epochs": 1, "eta": 3},
            "asha, min 3, eta 3": {"type": "asha", "min_epochs": 3, "eta": 3},
            "hyperband, min 1, eta 3": {"type": "hyperband", "min_epochs": 1, "eta": 3},
            "median, min 3": {"type": "median", "min_epochs": 3, "startup_trials": 5},
        }
        for name, rule in rules.items():
            exact, close = [], []
            for s in seeds:
                db = fersweep_run(args.fersweep, curve_spec(s, 3 * args.curve_trials, rule),
                                  workdir)
                reached = epochs_to_reach(db, targets[s])
                near = epochs_to_reach(db, targets[s] - 0.01)
                if reached is not None:
                    exact.append(reached)
                if near is not None:
                    close.append(near)
            median = lambda v: f"{statistics.median(v):.0f}" if v else "-"
            print(f"| {name} | {len(exact)}/{args.seeds} | {median(exact)} "
                  f"| {len(close)}/{args.seeds} | {median(close)} |")


if __name__ == "__main__":
    main()
