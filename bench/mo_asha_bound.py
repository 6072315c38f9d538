#!/usr/bin/env python3
"""The fewest epochs any early-stopping rule could need on bench/mo_asha.py's benchmark (issue
21): how early a rule must judge to reach no pruning's final hypervolume in half its epochs.

    cmake --build build -j2
    python3 bench/mo_asha_bound.py --fersweep build/cli/fersweep [--seeds 20] [--rungs 1,3,9]

For each seed, the real CLI runs mo_asha.py's sweep without pruning for `--asha-trials` trials of
27 epochs (random search: the configs MO-ASHA sees, in its order) and reads each trial's final
(1 - val_accuracy, mparams). The target is the hypervolume of the first `--trials` of them, as in
mo_asha.py. A rule that judges first at epoch r spends at least r epochs on every trial it starts
and the full 27 on every trial that counts on the front. Knowing every final value in advance,
the cheapest way to the target over the first N trials is to finish the fewest of them whose
front reaches it (found by trying subsets of the first N trials' own front, smallest first) and
stop all others at r: r x N + (27 - r) x that many. The minimum over N is a floor no ranking,
tie-break or promotion rule with its first rung at r can beat; reported as a fraction of no
pruning's epochs, with the median over seeds, beside the simpler hindsight rule "finish a trial
exactly when it joins the front of those finished so far".

The same per-epoch values also replay MO-ASHA's stopping rule (one rung at `--replay-rung`, eta
3, one trial at a time) with other ways to rank a rung's arrivals inside a front: crowding
distance (fersweep's; the replay is checked against fersweep's own MO-ASHA run on every seed,
epoch for epoch), Syne Tune's epsilon-net (the best accuracy first, then the farthest from those
taken), hypervolume contribution (the largest first), and no sorting at all but accuracy within
bands of one octave of width (a rule for an objective that does not change with epochs). Prints
Markdown; docs/BENCHMARKS.md holds the last run.
"""
import argparse
import itertools
import math
import statistics

from fersweep_cli import run_and_query
from mo_asha import (MPARAMS_AT_WIDTH_1, REFERENCE, benchmark_arguments, epochs_to, hypervolume,
                     reaches, run_sweep, sweep_spec)
from pareto import dominates, front_of


def trial_curves(binary, seed, trials, epochs):
    """Each trial's (val_accuracy per epoch, from 1, and mparams), in the order the sweep ran
    them."""
    trial_rows, metric_rows, epoch_rows = run_and_query(
        binary, sweep_spec(seed, "random", trials, epochs), [
            "SELECT id FROM trials ORDER BY number",
            "SELECT trial_id, name, value FROM trial_metrics",
            "SELECT trial_id, epoch, value FROM epoch_metrics WHERE name = 'val_accuracy' "
            "ORDER BY trial_id, epoch"])
    sizes = {t: v for t, name, v in metric_rows if name == "mparams"}
    accuracy = {}
    for trial_id, _, value in epoch_rows:
        accuracy.setdefault(trial_id, []).append(value)
    return [(accuracy[t], sizes[t]) for (t,) in trial_rows]


def fewest_finished(points, target, at_most):
    """The fewest of `points` whose hypervolume reaches `target` (None if more than `at_most`
    or none): only the points' own front can matter."""
    front = sorted(set(front_of(points)))
    if not reaches(hypervolume(front), target):
        return None
    for size in range(1, min(len(front), at_most) + 1):
        if any(reaches(hypervolume(subset), target)
               for subset in itertools.combinations(front, size)):
            return size
    return None


def floor_epochs(points, target, rung, epochs):
    best, fewest = None, len(points)
    for n in range(1, len(points) + 1):
        if best is not None and rung * n >= best:
            break  # every later prefix costs more in stopped trials alone
        found = fewest_finished(points[:n], target, fewest)
        if found is None:
            continue
        fewest = found
        cost = rung * n + (epochs - rung) * found
        best = cost if best is None else min(best, cost)
    return best


def greedy_epochs(points, target, rung, epochs):
    """Finish a trial exactly when its final point joins the front of those finished so far."""
    spent, finished = 0, []
    for p in points:
        if any(q[0] <= p[0] and q[1] <= p[1] for q in finished):
            spent += rung
            continue
        spent += epochs
        finished.append(p)
        if reaches(hypervolume(finished), target):
            return spent
    return None


def fronts(points):
    """Indices of `points`, front by front (non-dominated sorting)."""
    left, out = list(range(len(points))), []
    while left:
        front = [i for i in left if not any(dominates(points[j], points[i]) for j in left)]
        out.append(front)
        left = [i for i in left if i not in front]
    return out


def crowding(points, front):
    """NSGA-II's crowding distance (common/pareto.cc), the most isolated first."""
    if len(front) <= 2:
        return {i: -math.inf for i in front}
    distance = dict.fromkeys(front, 0.0)
    for m in range(2):
        order = sorted(front, key=lambda i: points[i][m])
        span = points[order[-1]][m] - points[order[0]][m]
        distance[order[0]] = distance[order[-1]] = math.inf
        if span > 0:
            for k in range(1, len(order) - 1):
                distance[order[k]] += (points[order[k + 1]][m] - points[order[k - 1]][m]) / span
    return {i: -d for i, d in distance.items()}


def epsilon_net(points, front):
    """Syne Tune's MO-ASHA default: the best first objective first, then always the member
    farthest from those already taken."""
    taken = [min(front, key=lambda i: points[i])]
    while len(taken) < len(front):
        taken.append(max((i for i in front if i not in taken),
                         key=lambda i: min(math.dist(points[i], points[j]) for j in taken)))
    return {i: k for k, i in enumerate(taken)}


def contribution(points, front):
    """Each member's exclusive hypervolume, the largest first."""
    order = sorted(front, key=lambda i: points[i])
    keys = {}
    for k, i in enumerate(order):
        right = points[order[k + 1]][0] if k + 1 < len(order) else REFERENCE[0]
        above = points[order[k - 1]][1] if k > 0 else REFERENCE[1]
        keys[i] = -(right - points[i][0]) * (above - points[i][1])
    return keys


def sorted_keys(tie_break):
    def keys(points):
        out = {}
        for f, front in enumerate(fronts(points)):
            for i, key in tie_break(points, front).items():
                out[i] = (f, key)
        return out
    return keys


def width_band_keys(points):
    """Accuracy alone, within bands of one octave of width (mparams 1.33 x width^2): each
    arrival's place in its band, as a fraction of the band."""
    bands = {}
    for i, (_, size) in enumerate(points):
        bands.setdefault(math.floor(math.log2(size / MPARAMS_AT_WIDTH_1) / 2), []).append(i)
    keys = {}
    for band in bands.values():
        for k, i in enumerate(sorted(band, key=lambda i: points[i][0])):
            keys[i] = (k / len(band),)
    return keys


RULES = {"crowding distance (fersweep)": sorted_keys(crowding),
         "epsilon-net (Syne Tune)": sorted_keys(epsilon_net),
         "hypervolume contribution": sorted_keys(contribution),
         "accuracy within width octaves": width_band_keys}


def replay(curves, target, rung, epochs, rule, eta=3):
    """Stopping-mode ASHA, one rung, one trial at a time: a newcomer goes on unless at least
    max(1, n // eta) of the n arrivals rank strictly ahead of it (a tie goes its way)."""
    arrivals, finished, spent = [], [], 0
    for accuracy, size in curves:
        arrivals.append((1 - accuracy[rung - 1], size))
        keys = rule(arrivals)
        ahead = sum(keys[i] < keys[len(arrivals) - 1] for i in range(len(arrivals) - 1))
        if ahead >= max(1, len(arrivals) // eta):
            spent += rung
            continue
        spent += epochs
        finished.append((1 - accuracy[-1], size))
        if reaches(hypervolume(finished), target):
            return spent
    return None


def main():
    parser = argparse.ArgumentParser()
    benchmark_arguments(parser)
    parser.add_argument("--rungs", default="1,3,9")
    parser.add_argument("--replay-rung", type=int, default=9)
    args = parser.parse_args()
    rungs = [int(r) for r in args.rungs.split(",")]
    budget = args.trials * args.epochs

    def fraction(spent):
        return spent / budget if spent is not None else math.inf

    floors, greedy = {r: [] for r in rungs}, {r: [] for r in rungs}
    replays = {name: [] for name in RULES}
    for seed in range(1, args.seeds + 1):
        curves = trial_curves(args.fersweep, seed, args.asha_trials, args.epochs)
        points = [(1 - accuracy[-1], size) for accuracy, size in curves]
        target = hypervolume(points[:args.trials])
        for r in rungs:
            for table, rule in ((floors, floor_epochs), (greedy, greedy_epochs)):
                spent = rule(points, target, r, args.epochs)
                table[r].append(fraction(spent))
        for name, rule in RULES.items():
            spent = replay(curves, target, args.replay_rung, args.epochs, rule)
            replays[name].append(fraction(spent))
        # The replay must be the rule fersweep runs: its own MO-ASHA, on the same seed.
        own = epochs_to(run_sweep(args.fersweep, seed, "random", args.asha_trials, args.epochs,
                                  True, args.replay_rung), target)
        replayed = replays["crowding distance (fersweep)"][-1]
        if fraction(own) != replayed:
            raise SystemExit(f"seed {seed}: fersweep's MO-ASHA reached the target after {own} "
                             f"epochs, the replay of its rule after {replayed * budget}")
    print(f"learning_curve_size, random search, {args.epochs} epochs a trial; target: no "
          f"pruning's hypervolume after {args.trials} trials ({budget} epochs); "
          f"{args.asha_trials} configs; {args.seeds} seeds\n")
    print("| first judged at epoch | floor: fraction of no pruning's epochs, median [range] | "
          "seeds at most 0.5 | hindsight rule 'finish what joins the front' |")
    print("|---|---|---|---|")
    for r in rungs:
        f, g = sorted(floors[r]), sorted(greedy[r])
        print(f"| {r} | {statistics.median(f):.2f} [{f[0]:.2f}, {f[-1]:.2f}] | "
              f"{sum(x <= 0.5 for x in f)} of {len(f)} | {statistics.median(g):.2f} |")
    print(f"\nMO-ASHA's stopping rule replayed, one rung at epoch {args.replay_rung}, eta 3 "
          "(crowding distance: the same epochs as fersweep's own run on every seed)\n")
    print("| a rung ranks its arrivals by | fraction of no pruning's epochs to the target, "
          "median | seeds reaching it | seeds at most 0.5 |")
    print("|---|---|---|---|")
    for name, fractions in replays.items():
        print(f"| {name} | {statistics.median(fractions):.2f} | "
              f"{sum(x != math.inf for x in fractions)} of {len(fractions)} | "
              f"{sum(x <= 0.5 for x in fractions)} of {len(fractions)} |")


if __name__ == "__main__":
    main()
