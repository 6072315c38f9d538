#!/usr/bin/env python3
"""Optuna 3.1's side of the coordinator-throughput comparison (bench/coordinator_throughput.sh).

WORKERS processes share one study in a SQLite database (Optuna's way of running in parallel on
one machine) and run TRIALS trials of Branin with the random sampler, one reported value per
trial: no training, so the figure is the framework's own cost per trial. Prints the finished
trials per second from the first trial's start to the last one's completion, as stored.

    python3 bench/optuna_throughput.py WORKERS TRIALS
"""
import math
import multiprocessing
import os
import sys
import tempfile

import optuna


def branin(trial):
    x1 = trial.suggest_float("x1", -5, 10)
    x2 = trial.suggest_float("x2", 0, 15)
    a, b, c, r, s, t = 1, 5.1 / (4 * math.pi ** 2), 5 / math.pi, 6, 10, 1 / (8 * math.pi)
    return a * (x2 - b * x1 ** 2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s


def work(storage, count, seed):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name="throughput", storage=storage,
                              sampler=optuna.samplers.RandomSampler(seed=seed))
    study.optimize(branin, n_trials=count)


def main():
    workers, trials = int(sys.argv[1]), int(sys.argv[2])
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        storage = f"sqlite:///{os.path.join(tmp, 'optuna.db')}"
        optuna.create_study(study_name="throughput", storage=storage, direction="minimize")
        shares = [trials // workers + (1 if i < trials % workers else 0) for i in range(workers)]
        processes = [multiprocessing.Process(target=work, args=(storage, n, i))
                     for i, n in enumerate(shares)]
        for p in processes:
            p.start()
        for p in processes:
            p.join()
        done = optuna.load_study(study_name="throughput", storage=storage).get_trials(deepcopy=False)
        finished = [t for t in done if t.state == optuna.trial.TrialState.COMPLETE]
        span = (max(t.datetime_complete for t in finished) -
                min(t.datetime_start for t in finished)).total_seconds()
        print(f"{len(finished)} {span:.3f} {len(finished) / span:.1f}")


if __name__ == "__main__":
    main()
