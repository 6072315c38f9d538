#!/usr/bin/env python3
"""Multi-objective ASHA against no pruning (issue 21): the epochs to reach the same hypervolume.

    cmake --build build -j2
    python3 bench/mo_asha.py --fersweep build/cli/fersweep [--seeds 20] [--method random] \
        [--width-speed 0] [--mode stop|promotion] [--min-epochs 1] [--eta 3]

The benchmark is `learning_curve_size`: the learning-curve benchmark with a network width, whose
wider networks plateau higher and learn width^width_speed times as fast per epoch (0: as fast;
-0.5: wide networks look worse early, which no rung-based rule can see through), and whose size
(`mparams`, millions of parameters, 1.33 x width^2) is the second objective: maximise
val_accuracy, minimise mparams.
Both sides run the real CLI (`fersweep run`, in-process, one trial after the other) with the same
sampler and seed, so a random sampler proposes the same configs in the same order on both:

- no pruning: `--trials` trials of `--epochs` epochs each;
- MO-ASHA: `early_stopping: asha` (min_epochs 1, eta 3; each rung ranked by non-dominated
  sorting, then crowding distance) with `--asha-trials` trials.

The front after each trial holds the finished trials only (a pruned network is not trained, so
nobody would deploy it); its hypervolume is taken in (1 - val_accuracy, mparams) up to a fixed
reference point (1, 1.1 x the largest network). The target is the no-pruning run's final
hypervolume (its whole epoch budget); reported is the number of epochs MO-ASHA needs to reach it,
as a fraction of that budget, per seed, with the median over seeds, and the hypervolume of both
at fixed epoch counts. Prints Markdown; docs/BENCHMARKS.md holds the last run.
"""
import argparse
import statistics

from fersweep_cli import run_and_query

WIDTH_MIN, WIDTH_MAX = 0.25, 4.0
MPARAMS_AT_WIDTH_1 = 1.328102  # benchmarks/functions.cc, curve_network_mparams: 1.33 x width^2
REFERENCE = (1.0, 1.1 * MPARAMS_AT_WIDTH_1 * WIDTH_MAX ** 2)


def hypervolume(points):
    """Exact 2-D hypervolume of minimised points up to REFERENCE."""
    inside = sorted(p for p in points if p[0] < REFERENCE[0] and p[1] < REFERENCE[1])
    # Sweep along the first objective: each slice is as tall as the best second value so far.
    volume, best_second = 0.0, REFERENCE[1]
    for i, (first, second) in enumerate(inside):
        best_second = min(best_second, second)
        next_first = inside[i + 1][0] if i + 1 < len(inside) else REFERENCE[0]
        volume += (next_first - first) * (REFERENCE[1] - best_second)
    return volume


def sweep_spec(seed, method, trials, epochs, width_speed=0.0):
    """The benchmark sweep without early stopping: both sides' spec before MO-ASHA's part."""
    return {"name": f"mo-asha-{seed}", "method": method, "seed": seed, "epochs": epochs,
            "metric": [{"name": "val_accuracy", "goal": "maximize"},
                       {"name": "mparams", "goal": "minimize"}],
            "budget": {"trials": trials},
            "benchmark": {"function": "learning_curve_size", "width_speed": width_speed},
            "parameters": {
                "lr": {"distribution": "log_uniform", "min": 1e-5, "max": 1e-1},
                "dropout": {"distribution": "uniform", "min": 0.0, "max": 0.8},
                "batch_size": {"values": [32, 64, 128, 256]},
                "width": {"distribution": "log_uniform", "min": WIDTH_MIN, "max": WIDTH_MAX}}}


def run_sweep(binary, seed, method, trials, epochs, asha, min_epochs=1, eta=3, mode="stop",
              width_speed=0.0, ranked_by="both", multi_fidelity=False):
    spec = sweep_spec(seed, method, trials, epochs, width_speed)
    if multi_fidelity:  # the same spec on both sides: without rungs there is nothing more to fit
        spec["tpe"] = {"multi_fidelity": True}
    if ranked_by == "accuracy":  # single-objective ASHA, for comparison: size plays no part
        spec["metric"] = spec["metric"][:1]
    if asha:
        spec["early_stopping"] = {"type": "asha", "min_epochs": min_epochs, "eta": eta,
                                  "mode": mode}
    trials_rows, metric_rows = run_and_query(binary, spec, [
        "SELECT id, number, status, epochs_completed FROM trials ORDER BY number",
        "SELECT trial_id, name, value FROM trial_metrics"])
    metrics = {}
    for trial_id, name, value in metric_rows:
        metrics.setdefault(trial_id, {})[name] = value
    # (epochs spent so far, hypervolume of the finished trials so far) after each trial
    curve, spent, front = [], 0, []
    for trial_id, _, status, epochs_done in trials_rows:
        spent += epochs_done
        if status == "finished":
            m = metrics[trial_id]
            front.append((1 - m["val_accuracy"], m["mparams"]))
        curve.append((spent, hypervolume(front)))
    return curve


def at_epochs(curve, epochs):
    """Hypervolume once `epochs` had been spent."""
    value = 0.0
    for spent, volume in curve:
        if spent > epochs:
            break
        value = volume
    return value


def reaches(volume, target):
    """Whether a hypervolume reaches the target, up to rounding."""
    return volume >= target - 1e-12


def epochs_to(curve, target):
    for spent, volume in curve:
        if reaches(volume, target):
            return spent
    return None


def benchmark_arguments(parser):
    """The options of the comparison itself, which bench/mo_asha_bound.py shares."""
    parser.add_argument("--fersweep", required=True)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--asha-trials", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=27)


def main():
    parser = argparse.ArgumentParser()
    benchmark_arguments(parser)
    parser.add_argument("--method", default="random")
    parser.add_argument("--min-epochs", type=int, default=1)
    parser.add_argument("--eta", type=int, default=3)
    parser.add_argument("--mode", default="stop", choices=["stop", "promotion"])
    parser.add_argument("--width-speed", type=float, default=0.0)
    parser.add_argument("--ranked-by", default="both", choices=["both", "accuracy"],
                        help="accuracy: the ASHA side is a one-objective sweep (plain ASHA)")
    parser.add_argument("--multi-fidelity", action="store_true",
                        help="tpe.multi_fidelity on both sides (with --method tpe): the model "
                        "also learns from the values MO-ASHA's rungs record")
    args = parser.parse_args()
    budget = args.trials * args.epochs
    rows, fractions, near_ratios, marks = [], [], [], [budget // 4, budget // 2, budget]
    plain_at, asha_at = {m: [] for m in marks}, {m: [] for m in marks}
    for seed in range(1, args.seeds + 1):
        plain = run_sweep(args.fersweep, seed, args.method, args.trials, args.epochs, False,
                          width_speed=args.width_speed, multi_fidelity=args.multi_fidelity)
        asha = run_sweep(args.fersweep, seed, args.method, args.asha_trials, args.epochs, True,
                         args.min_epochs, args.eta, args.mode, args.width_speed, args.ranked_by,
                         args.multi_fidelity)
        target = plain[-1][1]
        reached = epochs_to(asha, target)
        fraction = reached / budget if reached is not None else float("inf")
        fractions.append(fraction)
        # 99 % of the target: both sides' epochs to get there, as a ratio.
        near_plain, near_asha = epochs_to(plain, 0.99 * target), epochs_to(asha, 0.99 * target)
        near_ratio = near_asha / near_plain if near_asha is not None else float("inf")
        near_ratios.append(near_ratio)
        for m in marks:
            plain_at[m].append(at_epochs(plain, m))
            asha_at[m].append(at_epochs(asha, m))
        rows.append(f"| {seed} | {target:.4f} | {reached if reached is not None else '—'} | "
                    f"{fraction:.2f} | {near_plain} | "
                    f"{near_asha if near_asha is not None else '—'} | {near_ratio:.2f} | "
                    f"{asha[-1][0]} | {asha[-1][1]:.4f} |")
    print(f"learning_curve_size (width_speed {args.width_speed}), method {args.method}, "
          f"ASHA {args.mode} mode, min_epochs {args.min_epochs}, eta {args.eta}, "
          f"ranked by {args.ranked_by}, "
          f"{args.epochs} epochs a trial; "
          f"no pruning: {args.trials} trials ({budget} epochs); MO-ASHA: up to "
          f"{args.asha_trials} trials; reference point ({REFERENCE[0]}, {REFERENCE[1]:.2f})\n")
    print("| seed | target (no pruning's final HV) | MO-ASHA epochs to target | fraction of "
          "no pruning's epochs | no pruning epochs to 99 % | MO-ASHA epochs to 99 % | ratio | "
          "MO-ASHA epochs in all | MO-ASHA final HV |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"\nmedian fraction of the epochs: **{statistics.median(fractions):.2f}** "
          f"(seeds where MO-ASHA reached the target: "
          f"{sum(f != float('inf') for f in fractions)} of {len(fractions)}); to 99 % of it, "
          f"MO-ASHA's epochs over no pruning's: **{statistics.median(near_ratios):.2f}** "
          f"(reached: {sum(r != float('inf') for r in near_ratios)} of {len(near_ratios)})\n")
    print("| epochs spent | no pruning HV (median) | MO-ASHA HV (median) |")
    print("|---|---|---|")
    for m in marks:
        print(f"| {m} | {statistics.median(plain_at[m]):.4f} | "
              f"{statistics.median(asha_at[m]):.4f} |")


if __name__ == "__main__":
    main()
