#!/usr/bin/env python3
"""Time to a good model (issue 24): fersweep's sweep against Optuna + PyTorch on the same task, the
same cores and the same workers, in one run, over seeds.

    /usr/bin/python3 bench/time_to_quality.py --fersweep build/cli/fersweep [--seeds 3]
        [--first-seed 1] [--minutes 12] [--workers 2] [--count 8000] [--epochs 9]
        [--pruner asha] [--mode stop] [--resource epochs --min-seconds 10 --report-deadline]
        [--target-gap 0.02 | --target F]
        [--svg docs/figures/time_to_quality.svg] [--json out.json] [--work DIR]

The task: `fersweep data synth --format folders` faces at 32 px (its train/ and val/ folders as
the split), the search space SPACE below (the modified-VGG family with widths, depth, head and
dropout; MobileNetV2 and ResNet-18 with the small stem; Adam's rate, batch size, augmentation),
at most --epochs epochs a trial, val macro-F1 maximised, --minutes of wall time a side.
- fersweep: `mpiexec -n workers+1 fersweep run` (a coordinator and the workers), TPE (10 startup
  trials, multivariate, constant liar) with ASHA or Hyperband (--pruner) in stopping or promotion
  mode (--mode), min 1 epoch, eta 3, or cost-aware ASHA (--resource seconds: rungs at
  --min-seconds * 3^k seconds of training; --report-deadline stops a trial still silent at the
  rung after one holding a value), and its default per-epoch training state and
  best-model checkpoints written, as a user runs it.
- Optuna 3.1: --workers processes sharing one SQLite storage (its documented way to run in
  parallel), each TPESampler (the same settings, group=True for the conditional space) and
  HyperbandPruner(1, epochs, 3), training tests/fidelity/step_reference.py's networks (PyTorch's
  layouts and initialisation) in a plain PyTorch loop, with fersweep's augmentation (flip, shift 2
  with edges replicated) and normalisation, on the same PNGs.
Both sides: 1 LibTorch thread a worker, every epoch's val macro-F1 with its time since the side
was launched (MPI and Python start-up included). The sides alternate which goes first by seed.

The target is the best val macro-F1 any side reached in any seed of this run minus --target-gap,
or --target set beforehand (from an earlier run), so both sides chase the same number.
Reported: each side's time to the target (median over seeds; a seed that never reaches it counts
as "never"), the best reached at a quarter, half, three quarters and all of the budget, how busy
the workers were, and the ASHA anchor: fersweep's time to target over the median time of one
trial trained to the last epoch (the sum of its epochs' seconds, so that pauses in promotion mode
do not count). When Optuna's median is "never" and fersweep's is not, the ratio is reported as a
lower bound: the budget over fersweep's median.

Needs python3-torch, python3-torchvision, python3-pil, python3-sklearn and python3-optuna.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fidelity"))
sys.path.insert(0, HERE)
from fersweep_cli import query  # noqa: E402
from fidelity import CLASSES, SIZE, read_faces  # noqa: E402  the same PNGs, read alike

VGG_FILTERS = [[16, 32, 64], [32, 64, 128], [32, 64, 128, 256]]
VGG_DENSE = [[64], [256], [128, 64]]
# fersweep's spec of the space; optuna_objective below asks the same questions in the same order.
SPACE = {
    "arch": {"values": ["vgg_custom", "mobilenet_v2", "resnet18"]},
    "stem": {"value": "small"},
    "filters": {"values": VGG_FILTERS, "when": {"arch": "vgg_custom"}},
    "convs_per_block": {"values": [1, 2], "when": {"arch": "vgg_custom"}},
    "dense": {"values": VGG_DENSE, "when": {"arch": "vgg_custom"}},
    "width_multiplier": {"values": [0.5, 1.0], "when": {"arch": "mobilenet_v2"}},
    "dropout": {"distribution": "uniform", "min": 0.1, "max": 0.5,
                "when": {"arch": ["vgg_custom", "mobilenet_v2"]}},
    "optimizer": {"value": "adam"},
    "lr": {"distribution": "log_uniform", "min": 1e-4, "max": 1e-2},
    "batch_size": {"values": [32, 64, 128]},
    "augment": {"values": [True, False]},
}


def early_stopping(args):
    if args.resource == "seconds":  # cost-aware ASHA: rungs in seconds of training
        return {"type": "asha", "resource": "seconds", "min_seconds": args.min_seconds, "eta": 3,
                "report_deadline": args.report_deadline}
    return {"type": args.pruner, "min_epochs": 1, "eta": 3, "mode": args.mode}


def fersweep_side(args, faces, seed, work):
    spec = {"name": f"time-to-quality-{seed}", "method": "tpe", "seed": seed,
            "epochs": args.epochs, "metric": {"name": "val_macro_f1", "goal": "maximize"},
            "budget": {"trials": 100000, "wall_time": args.minutes * 60},
            "tpe": {"startup_trials": 10, "multivariate": True, "constant_liar": True},
            "early_stopping": early_stopping(args),
            "data": {"image_size": SIZE, "seed": 1, "split": "given",
                     "sources": {"faces": {"format": "folders", "path": faces}}},
            "resources": {"threads_per_worker": 1}, "parameters": SPACE}
    spec_path, db = os.path.join(work, f"fersweep_{seed}.json"), os.path.join(work, f"{seed}.db")
    start = launched(work, "fersweep", seed)
    if start is None:
        with open(spec_path, "w") as out:
            json.dump(spec, out)
        start = launch(work, "fersweep", seed)
        # Exit 1 with epochs stored: the budget ran out before any trial reached its last epoch
        # (a seed whose first draws were all ResNet-18), a result like any other here.
        code = subprocess.run(["mpiexec", "-n", str(args.workers + 1), "--oversubscribe",
                               "--bind-to", "none", args.fersweep, "run", spec_path, "--db", db,
                               "--quiet"], stdout=subprocess.DEVNULL, cwd=work).returncode
        if code != 0 and (code != 1 or not query(db, "SELECT 1 FROM epochs")):
            raise SystemExit(f"fersweep run exited with {code}: see {db}")
        finished(work, "fersweep", seed)
    events = [(at - start, value) for at, value in query(
        db, "SELECT e.recorded_at, m.value FROM epochs e JOIN epoch_metrics m USING (trial_id, "
            "epoch) WHERE m.name = 'val_macro_f1' ORDER BY e.recorded_at")]
    # Training time per trial from its epochs (a promoted trial's pauses are not training), and
    # the workers' busy time as the spans of the epochs themselves.
    full = [seconds for epochs, seconds in query(
        db, "SELECT count(*), sum(seconds) FROM epochs GROUP BY trial_id") if epochs == args.epochs]
    spans = [(at - seconds - start, at - start)
             for at, seconds in query(db, "SELECT recorded_at, seconds FROM epochs")]
    # A trial stopped at its report deadline trained unreported from its last report (or its
    # start) to its end.
    spans += [(begin - start, end - start) for begin, end in query(
        db, "SELECT coalesce((SELECT max(recorded_at) FROM epochs e WHERE e.trial_id = t.id), "
            "t.started_at), t.finished_at FROM trials t WHERE t.error LIKE 'stopped: epoch % ran %'")]
    return {"events": events, "trials": query(db, "SELECT count(*) FROM trials")[0][0],
            "full_trial_seconds": full, "busy_seconds": busy_seconds(spans, args.minutes * 60)}


def optuna_objective(trial, data, epochs, deadline, log):
    import optuna
    import torch
    import torch.nn.functional as F
    from sklearn.metrics import f1_score
    from step_reference import PIXEL_CENTRE, PIXEL_SCALE, reference_model
    from train_reference import augment  # fersweep's default flip and shift, in PyTorch
    p = {"arch": trial.suggest_categorical("arch", SPACE["arch"]["values"]), "stem": "small"}
    if p["arch"] == "vgg_custom":  # Optuna's categoricals are scalars: lists go by their index
        p["filters"] = VGG_FILTERS[trial.suggest_categorical("filters", [0, 1, 2])]
        p["convs_per_block"] = trial.suggest_categorical("convs_per_block", [1, 2])
        p["dense"] = VGG_DENSE[trial.suggest_categorical("dense", [0, 1, 2])]
    if p["arch"] == "mobilenet_v2":
        p["width_multiplier"] = trial.suggest_categorical("width_multiplier", [0.5, 1.0])
    if p["arch"] in ("vgg_custom", "mobilenet_v2"):
        p["dropout"] = trial.suggest_float("dropout", 0.1, 0.5)
    lr = trial.suggest_float("lr", 1e-4, 1e-2, log=True)
    batch = trial.suggest_categorical("batch_size", [32, 64, 128])
    augmenting = trial.suggest_categorical("augment", [True, False])

    (train_x, train_y), (val_x, val_y) = data
    torch.manual_seed(trial.number)
    generator = torch.Generator().manual_seed(trial.number)
    normalise = lambda pixels: (pixels.float() - PIXEL_CENTRE) / PIXEL_SCALE  # noqa: E731
    model = reference_model(p, CLASSES, SIZE)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(train_y), generator=generator)
        for first in range(0, len(order), batch):
            index = order[first:first + batch]
            x = normalise(train_x[index])
            if augmenting:
                x = augment(x, generator)
            optimizer.zero_grad()
            F.cross_entropy(model(x), train_y[index]).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            logits = torch.cat([model(normalise(val_x[i:i + 256]))
                                for i in range(0, len(val_y), 256)])
        f1 = float(f1_score(val_y.numpy(), logits.argmax(1).numpy(), average="macro",
                            zero_division=0))
        log.write(json.dumps([time.time(), f1]) + "\n")
        log.flush()
        trial.report(f1, epoch)
        if trial.should_prune() or time.time() > deadline:
            raise optuna.TrialPruned()
    return f1  # the last epoch's, as fersweep's objective


def optuna_worker(storage, study_name, faces, rank, seed, epochs, deadline, log_path):
    import warnings

    import optuna
    import torch
    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    study = optuna.load_study(
        study_name=study_name, storage=storage,
        sampler=optuna.samplers.TPESampler(n_startup_trials=10, multivariate=True, group=True,
                                           constant_liar=True, seed=seed * 100 + rank),
        pruner=optuna.pruners.HyperbandPruner(1, epochs, 3))
    data = (read_faces(faces, "train"), read_faces(faces, "val"))
    with open(log_path, "w") as log:
        study.optimize(lambda trial: optuna_objective(trial, data, epochs, deadline, log),
                       timeout=max(1.0, deadline - time.time()), catch=())


def optuna_side(args, faces, seed, work):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{os.path.join(work, f'optuna_{seed}.db')}"
    name = f"time-to-quality-{seed}"
    logs = [os.path.join(work, f"optuna_{seed}_{rank}.jsonl") for rank in range(args.workers)]
    start = launched(work, "optuna", seed)
    if start is None:
        optuna.create_study(study_name=name, storage=storage, direction="maximize")
        start = launch(work, "optuna", seed)
        deadline = start + args.minutes * 60
        workers = [subprocess.Popen([sys.executable, os.path.abspath(__file__), "--fersweep",
                                     args.fersweep, "--optuna-worker", storage, name, faces,
                                     str(rank), str(seed), str(args.epochs), repr(deadline),
                                     logs[rank]])
                   for rank in range(args.workers)]
        for worker in workers:
            if worker.wait() != 0:
                raise SystemExit(f"an Optuna worker exited with {worker.returncode}")
        finished(work, "optuna", seed)
    events = sorted((at - start, f1) for path in logs for at, f1 in map(json.loads, open(path)))
    study = optuna.load_study(study_name=name, storage=storage)
    trials = [t for t in study.trials if t.datetime_complete]
    spans = [(t.datetime_start.timestamp() - start, t.datetime_complete.timestamp() - start)
             for t in trials]
    return {"events": events, "trials": len(trials), "full_trial_seconds": [],
            "busy_seconds": busy_seconds(spans, args.minutes * 60)}


def launched(work, side, seed):
    """The launch time of a side that ran to its end in `work` before (--work), else None."""
    marker = os.path.join(work, f"{side}_{seed}")
    if not os.path.exists(marker + ".done"):
        return None
    with open(marker + ".start") as start:
        return float(start.read())


def launch(work, side, seed):
    start = time.time()
    with open(os.path.join(work, f"{side}_{seed}.start"), "w") as out:
        out.write(repr(start))
    return start


def finished(work, side, seed):
    open(os.path.join(work, f"{side}_{seed}.done"), "w").close()


def busy_seconds(spans, budget):
    """Worker-seconds spent inside trials within the budget (trials run on past it to their next
    epoch): with the time the workers could give, how much of it went into training."""
    return sum(max(0.0, min(end, budget) - max(begin, 0.0)) for begin, end in spans)


def best_by(events, seconds):
    return max((f1 for at, f1 in events if at <= seconds), default=0.0)


def time_to(events, target, budget):
    return next((at for at, f1 in events if f1 >= target and at <= budget), None)


def median_time(times):
    """Median with "never" (None) ranked after every time; None when the median is never."""
    ranked = sorted(times, key=lambda t: (t is None, t or 0))
    middle = ranked[(len(ranked) - 1) // 2:len(ranked) // 2 + 1]
    return None if None in middle else statistics.mean(middle)


def minutes(seconds):
    return "never" if seconds is None else f"{seconds / 60:.1f} min"


def write_svg(path, runs, budget, target):
    """Anytime curves: the best val macro-F1 so far against wall time, one line per side and
    seed."""
    width, height, pad = 640, 360, 48
    x = lambda s: pad + (width - 2 * pad) * s / budget  # noqa: E731
    y = lambda f: height - pad - (height - 2 * pad) * f  # noqa: E731
    colours = {"fersweep": "#1f77b4", "optuna": "#d62728"}
    labels = {"fersweep": "fersweep", "optuna": "Optuna + PyTorch"}
    lines = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             'font-family="sans-serif" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<line x1="{pad}" y1="{y(0)}" x2="{x(budget)}" y2="{y(0)}" stroke="black"/>',
             f'<line x1="{pad}" y1="{y(0)}" x2="{pad}" y2="{y(1)}" stroke="black"/>',
             f'<line x1="{pad}" y1="{y(target):.1f}" x2="{x(budget)}" y2="{y(target):.1f}" '
             'stroke="gray" stroke-dasharray="4 4"/>',
             f'<text x="{width / 2}" y="{height - 12}" text-anchor="middle">wall time, minutes '
             f'(budget {budget / 60:g})</text>',
             f'<text x="14" y="{height / 2}" transform="rotate(-90 14 {height / 2})" '
             'text-anchor="middle">best val macro-F1 so far</text>']
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        lines.append(f'<text x="{pad - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick}</text>')
        lines.append(f'<text x="{x(tick * budget):.1f}" y="{y(0) + 16}" text-anchor="middle">'
                     f'{tick * budget / 60:g}</text>')
    for (side, _), run in sorted(runs.items()):
        points, best = [f"{x(0):.1f},{y(0):.1f}"], 0.0
        for at, f1 in run["events"]:
            if at > budget:
                break
            if f1 > best:
                points += [f"{x(at):.1f},{y(best):.1f}", f"{x(at):.1f},{y(f1):.1f}"]
                best = f1
        points.append(f"{x(budget):.1f},{y(best):.1f}")
        lines.append(f'<polyline fill="none" stroke="{colours[side]}" stroke-width="1.5" '
                     f'points="{" ".join(points)}"/>')
    for i, (side, colour) in enumerate(colours.items()):
        lines.append(f'<text x="{width - pad}" y="{pad + 16 * i}" fill="{colour}" '
                     f'text-anchor="end">{labels[side]}</text>')
    lines.append(f'<text x="{width - pad}" y="{y(target) - 4:.1f}" fill="gray" '
                 f'text-anchor="end">target {target:.3f}</text>')
    lines.append("</svg>")
    with open(path, "w") as out:
        out.write("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fersweep", required=True)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--minutes", type=float, default=12)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--count", type=int, default=8000)
    parser.add_argument("--epochs", type=int, default=9)
    parser.add_argument("--pruner", choices=["asha", "hyperband"], default="asha")
    parser.add_argument("--mode", choices=["stop", "promotion"], default="stop")
    parser.add_argument("--resource", choices=["epochs", "seconds"], default="epochs",
                        help="what fersweep's ASHA rungs count (seconds: asha, stop mode)")
    parser.add_argument("--min-seconds", type=float, default=10,
                        help="the first rung with --resource seconds")
    parser.add_argument("--report-deadline", action="store_true",
                        help="with --resource seconds: a trial silent past a rung is stopped at "
                        "the next one")
    parser.add_argument("--target-gap", type=float, default=0.02)
    parser.add_argument("--target", type=float)
    parser.add_argument("--svg")
    parser.add_argument("--json")
    parser.add_argument("--work", help="work directory; sides that ran to their end there are "
                        "read, not rerun (finishing a run that stopped)")
    parser.add_argument("--optuna-worker", nargs=8, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.optuna_worker:
        storage, name, faces, rank, seed, epochs, deadline, log = args.optuna_worker
        optuna_worker(storage, name, faces, int(rank), int(seed), int(epochs), float(deadline),
                      log)
        return
    if min(args.seeds, args.first_seed, args.workers) < 1 or args.minutes <= 0 or args.epochs < 2:
        parser.error("--seeds, --first-seed and --workers >= 1, --minutes > 0, --epochs >= 2")
    if args.resource == "seconds" and (args.pruner != "asha" or args.mode != "stop"):
        parser.error("--resource seconds needs --pruner asha and --mode stop")
    if "OMPI_ALLOW_RUN_AS_ROOT" not in os.environ and os.geteuid() == 0:
        os.environ.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    os.environ["OMP_NUM_THREADS"] = "1"
    args.fersweep = os.path.abspath(args.fersweep)  # fersweep runs in the work directory

    work = args.work or tempfile.mkdtemp(prefix="fersweep_time_to_quality_")
    print(f"work directory {work}", file=sys.stderr, flush=True)
    faces = os.path.join(work, "faces")
    if not os.path.isdir(faces):
        subprocess.run([args.fersweep, "data", "synth", "--format", "folders", "--count",
                        str(args.count), "--seed", "1", "--image-size", str(SIZE), "--out",
                        faces], check=True, stdout=subprocess.DEVNULL)
    runs = {}
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        sides = ["fersweep", "optuna"] if seed % 2 else ["optuna", "fersweep"]
        for side in sides:
            run = (fersweep_side if side == "fersweep" else optuna_side)(args, faces, seed, work)
            runs[(side, seed)] = run
            print(f"seed {seed} {side}: {run['trials']} trials, best "
                  f"{best_by(run['events'], args.minutes * 60):.3f}", file=sys.stderr, flush=True)
    report(args, runs)


def report(args, runs):
    budget = args.minutes * 60
    best = max(best_by(run["events"], budget) for run in runs.values())
    target = args.target if args.target is not None else best - args.target_gap
    seeds = sorted({seed for _, seed in runs})
    print(f"{args.count} synthetic faces at {SIZE} px, at most {args.epochs} epochs a trial, "
          f"{args.workers} workers of 1 thread, {args.minutes:g} min a side, seeds "
          f"{seeds[0]}-{seeds[-1]}; best any side reached {best:.3f}, target {target:.3f}\n")
    print("| side | time to target per seed | median | best at 1/4, 1/2, 3/4, all of the "
          "budget (median) | trials (median) | workers busy |")
    print("|---|---|---|---|---|---|")
    medians = {}
    for side in ("fersweep", "optuna"):
        mine = [runs[(side, seed)] for seed in seeds]
        times = [time_to(run["events"], target, budget) for run in mine]
        medians[side] = median_time(times)
        at = [statistics.median(best_by(run["events"], budget * q) for run in mine)
              for q in (0.25, 0.5, 0.75, 1.0)]
        busy = statistics.mean(run["busy_seconds"] / (args.workers * budget) for run in mine)
        print(f"| {side} | {', '.join(minutes(t) for t in times)} | {minutes(medians[side])} | "
              f"{', '.join(f'{v:.3f}' for v in at)} | "
              f"{statistics.median(run['trials'] for run in mine):g} | {100 * busy:.0f} % |")
    if medians["fersweep"] and medians["optuna"]:
        print(f"\nOptuna + PyTorch / fersweep, median time to target: "
              f"{medians['optuna'] / medians['fersweep']:.2f}x")
    elif medians["fersweep"]:  # Optuna's median is past the budget: a lower bound
        print(f"\nOptuna + PyTorch / fersweep, median time to target: more than "
              f"{budget / medians['fersweep']:.2f}x (Optuna's median is past the budget)")
    full = [s for seed in seeds for s in runs[("fersweep", seed)]["full_trial_seconds"]]
    if full and medians["fersweep"]:
        one = statistics.median(full)
        print(f"ASHA anchor: one trial to epoch {args.epochs} takes {minutes(one)} (median of "
              f"{len(full)}); time to target / that = {medians['fersweep'] / one:.2f}")
    if args.svg:
        write_svg(args.svg, runs, budget, target)
    if args.json:
        with open(args.json, "w") as out:
            json.dump({f"{side}/{seed}": run for (side, seed), run in runs.items()}, out)


if __name__ == "__main__":
    main()
