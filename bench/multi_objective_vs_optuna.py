#!/usr/bin/env python3
"""Multi-objective search quality (issue 21): fersweep's MOTPE and NSGA-II against Optuna 3.1.

    cmake --build build -j2
    /usr/bin/python3 bench/multi_objective_vs_optuna.py --fersweep build/cli/fersweep \
        [--seeds 10] [--trials 300] [--checkpoints 100,300] [--jobs 2] [--cache FILE] \
        [--problems zdt1,zdt2,dtlz2] [--methods optuna/MOTPESampler,...] [--first-seed 6] [--report] \
        [--sampler-options JSON]

ZDT1 and ZDT2 (30-D, two objectives) and DTLZ2 (12-D, three objectives), all minimised. fersweep
runs the real CLI (`fersweep run` on a benchmark spec, in-process) with method tpe (MOTPE when
the spec names several objectives) and nsga2, defaults otherwise; Optuna runs TPESampler with
several objectives, MOTPESampler and NSGAIISampler with their defaults, on the same functions
written here in Python. Each run is `--trials` sequential trials; the hypervolume after the first
N trials (each N of `--checkpoints`) is computed by Optuna's own WFG implementation, with the
reference points 1.1x beyond the worst corner of each objective space: (1.1, 11) for ZDT (f1 in
[0, 1], f2 up to 10) and 3.85 per objective for DTLZ2 (each objective up to 1 + 10/4). Reported:
the median over seeds, and the interquartile range.

`--cache FILE` keeps each finished run's hypervolumes (every 10 trials and at each checkpoint) in
a JSON file, written as runs finish and read at the start: a comparison that takes hours (10
seeds of 300 trials, Optuna's TPE samplers a few CPU minutes a run) goes on where an interrupted
one stopped, and bench/results/ keeps the last one's. fersweep's entries hold for the samplers
that made them: delete them after changing search_spaces/ (bench/results/README.md).

Needs Debian's python3-optuna (3.1) and numpy: run it with /usr/bin/python3. Prints Markdown;
docs/BENCHMARKS.md holds the last run.
"""
import argparse
import concurrent.futures
import json
import math
import multiprocessing
import os
import statistics
import warnings

import numpy as np
import optuna
from optuna._hypervolume import WFG

from fersweep_cli import run_and_query
from pareto import front_of

ZDT_DIMS, DTLZ2_DIMS = 30, 12


def zdt_g(x):
    return 1 + 9 * sum(x[1:]) / (len(x) - 1)


def zdt1(x):
    g = zdt_g(x)
    return [x[0], g * (1 - math.sqrt(x[0] / g))]


def zdt2(x):
    g = zdt_g(x)
    return [x[0], g * (1 - (x[0] / g) ** 2)]


def dtlz2(x):
    g = sum((v - 0.5) ** 2 for v in x[2:])
    a, b = x[0] * math.pi / 2, x[1] * math.pi / 2
    return [(1 + g) * math.cos(a) * math.cos(b), (1 + g) * math.cos(a) * math.sin(b),
            (1 + g) * math.sin(a)]


# name: (function, dimensions, reference point)
PROBLEMS = {
    "zdt1": (zdt1, ZDT_DIMS, [1.1, 11.0]),
    "zdt2": (zdt2, ZDT_DIMS, [1.1, 11.0]),
    "dtlz2": (dtlz2, DTLZ2_DIMS, [3.85, 3.85, 3.85]),
}


def hypervolumes(points, reference, checkpoints):
    """Hypervolume of the first n points (those inside the reference box), for each n of the
    ascending `checkpoints`. WFG gets only the front: dominated points add no volume, and WFG,
    which loops over every point it is given, spent minutes a run on them in three objectives.
    The front grows checkpoint by checkpoint, since a point dominated once stays dominated."""
    out, front, seen = [], [], 0
    for n in checkpoints:
        front = front_of(front + [p for p in points[seen:n]
                                  if all(v < r for v, r in zip(p, reference))])
        seen = n
        out.append(WFG().compute(np.array(front), np.array(reference)) if front else 0.0)
    return out


def fersweep_points(binary, problem, method, seed, trials, options=None):
    _, dims, _ = PROBLEMS[problem]
    objectives = ["f1", "f2", "f3"][:len(PROBLEMS[problem][2])]
    spec = {"name": f"{problem}-{method}-{seed}", "method": method, "seed": seed, "epochs": 1,
            "metric": [{"name": m, "goal": "minimize"} for m in objectives],
            "budget": {"trials": trials}, "benchmark": {"function": problem},
            "parameters": {f"x{i}": {"distribution": "uniform", "min": 0, "max": 1}
                           for i in range(1, dims + 1)}}
    if options:
        spec[method] = options  # e.g. {"multivariate": false} as the spec's "tpe" object
    [rows] = run_and_query(binary, spec, [
        "SELECT t.number, m.name, m.value FROM trials t JOIN trial_metrics m "
        "ON m.trial_id = t.id WHERE t.status = 'finished'"])
    by_trial = {}
    for number, name, value in rows:
        by_trial.setdefault(number, {})[name] = value
    return [[by_trial[n][m] for m in objectives] for n in sorted(by_trial)]


def optuna_points(problem, sampler_name, seed, trials):
    function, dims, reference = PROBLEMS[problem]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MOTPESampler and multivariate are "experimental"
        sampler = {"TPESampler": lambda: optuna.samplers.TPESampler(seed=seed),
                   "MOTPESampler": lambda: optuna.samplers.MOTPESampler(seed=seed),
                   "NSGAIISampler": lambda: optuna.samplers.NSGAIISampler(seed=seed)}[
            sampler_name]()
        study = optuna.create_study(directions=["minimize"] * len(reference), sampler=sampler)
        study.optimize(lambda t: function([t.suggest_float(f"x{i}", 0, 1)
                                           for i in range(1, dims + 1)]), n_trials=trials)
    return [t.values for t in study.trials]


METHODS = [("fersweep", "tpe"), ("fersweep", "nsga2"), ("optuna", "TPESampler"),
           ("optuna", "MOTPESampler"), ("optuna", "NSGAIISampler")]


def run_key(problem, side, method, seed, trials):
    return f"{problem}/{side}/{method}/{seed}/{trials}"


def load_cache(path):
    if not path or not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def save_cache(path, cache):
    if not path:
        return
    with open(path + ".tmp", "w") as f:
        json.dump(cache, f, indent=0, sort_keys=True)
    os.replace(path + ".tmp", path)  # an interrupted write never loses earlier runs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fersweep", required=True)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=1,
                        help="run seeds from this one on (a second process can take the later "
                             "seeds); the table still reports every cached seed up to --seeds")
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--checkpoints", default="100,300")
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--methods", default=",".join(f"{side}/{method}" for side, method in METHODS),
                        help="side/method pairs to run and report, e.g. optuna/MOTPESampler")
    parser.add_argument("--cache", help="JSON file of finished runs' hypervolumes, reused")
    parser.add_argument("--sampler-options", type=json.loads,
                        help="JSON object given to fersweep's sampler as the spec's \"tpe\" or "
                             "\"nsga2\" object, e.g. '{\"multivariate\": false}'; not with --cache")
    parser.add_argument("--report", action="store_true",
                        help="print the table of what --cache holds; run nothing")
    args = parser.parse_args()
    checkpoints = [int(n) for n in args.checkpoints.split(",")]
    # Hypervolumes kept per run: every 10 trials and at each checkpoint, so a cached run serves
    # other checkpoints later.
    kept = sorted(set(range(10, args.trials + 1, 10)) | set(checkpoints))
    if args.sampler_options and args.cache:
        parser.error("--sampler-options: the cache keeps runs with the default options only")
    cache = load_cache(args.cache)
    methods = [tuple(pair.split("/")) for pair in args.methods.split(",")]
    unknown = [pair for pair in methods if pair not in METHODS]
    if unknown:
        parser.error(f"--methods: unknown {unknown}; known: {METHODS}")
    # Spawned, not forked: a forked worker would inherit (and flush again) what is printed here.
    pool = concurrent.futures.ProcessPoolExecutor(
        args.jobs, mp_context=multiprocessing.get_context("spawn"))
    tasks = {}
    # Seed by seed, so that an interrupted run leaves whole seeds in the cache.
    for seed in range(args.first_seed, args.seeds + 1):
        for problem in args.problems.split(","):
            for side, method in methods:
                key = run_key(problem, side, method, seed, args.trials)
                if args.report or all(str(n) in cache.get(key, {}) for n in checkpoints):
                    continue  # cached, with every checkpoint asked for
                if side == "fersweep":
                    future = pool.submit(fersweep_points, args.fersweep, problem, method, seed,
                                         args.trials, args.sampler_options)
                else:
                    future = pool.submit(optuna_points, problem, method, seed, args.trials)
                tasks[future] = (key, PROBLEMS[problem][2])
    for future in concurrent.futures.as_completed(tasks):
        key, reference = tasks[future]
        cache[key] = dict(zip(map(str, kept), hypervolumes(future.result(), reference, kept)))
        save_cache(args.cache, cache)
    print(f"{args.trials} sequential trials, {args.seeds} seeds; hypervolume after N trials, "
          "median [interquartile range] (and the seeds, where fewer are cached)\n", flush=True)
    print("| problem | sampler | " + " | ".join(f"HV after {n}" for n in checkpoints) + " |")
    print("|---|---|" + "---|" * len(checkpoints), flush=True)
    raw = {}
    for problem in args.problems.split(","):
        for side, method in methods:
            runs = [cache.get(run_key(problem, side, method, seed, args.trials))
                    for seed in range(1, args.seeds + 1)]
            per_seed = [[run[str(n)] for n in checkpoints] for run in runs if run]
            raw[f"{problem}/{side}/{method}"] = per_seed
            if not per_seed:
                continue
            cells = []
            for c in range(len(checkpoints)):
                values = sorted(v[c] for v in per_seed)
                q = statistics.quantiles(values, n=4) if len(values) > 1 else values * 3
                cells.append(f"{statistics.median(values):.4f} [{q[0]:.4f}, {q[2]:.4f}]")
            seeds = "" if len(per_seed) == args.seeds else f" ({len(per_seed)} seeds)"
            print(f"| {problem} | {side} {method}{seeds} | " + " | ".join(cells) + " |",
                  flush=True)
    pool.shutdown()
    print("\nper seed:", json.dumps(raw))


if __name__ == "__main__":
    main()
