"""What one reported epoch costs a worker beyond the epoch itself: the report to the coordinator,
its record in SQLite, the training state promotion keeps, and the wait for the decision.

A learning_curve sweep whose epochs sleep `--seconds-per-epoch`, ASHA in promotion mode, run
in-process and under `mpiexec -n W+1` for each worker count. The cost is the median gap between
the recorded ends of a trial's consecutive epochs, less the epoch's own sleep (trials paused at a
rung and resumed later are left out: their gap is the wait for promotion).

    /usr/bin/python3 bench/epoch_round_trip.py --fersweep build/cli/fersweep [--workers 1,2,4]
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fersweep_cli import query, run_spec  # noqa: E402
from multi_fidelity import spec  # noqa: E402


def gaps_ms(db):
    """Milliseconds between the ends of each trial's consecutive epochs, never across a pause."""
    rows = query(db, "SELECT trial_id, epoch, recorded_at FROM epochs ORDER BY trial_id, epoch")
    # A promoted trial's first epoch after its rung follows a wait for promotion, not a report.
    rungs = {(trial, epoch) for trial, epoch in query(db, "SELECT trial_id, epoch FROM trial_rungs")}
    gaps = []
    for (trial, epoch, at), (next_trial, next_epoch, next_at) in zip(rows, rows[1:]):
        if trial == next_trial and next_epoch == epoch + 1 and (trial, epoch) not in rungs:
            gaps.append((next_at - at) * 1000)
    return gaps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fersweep", required=True)
    parser.add_argument("--workers", default="1,2,4", help="worker counts under mpiexec")
    parser.add_argument("--seconds-per-epoch", type=float, default=0.05)
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if os.geteuid() == 0:
        os.environ.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    document = spec("learning_curve", 1, "random", None, "asha promotion", 0.0, args.trials,
                    args.seconds_per_epoch, 1)
    sleep_ms = args.seconds_per_epoch * 1000
    print(f"| ranks | workers | epochs measured | gap: median (ms) | 10th-90th percentile (ms) "
          f"| cost per epoch beyond its {sleep_ms:.0f} ms: median (ms) |")
    print("|---|---|---|---|---|---|")
    for workers in [0] + [int(w) for w in args.workers.split(",")]:
        gaps = []
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory(prefix="fersweep_round_trip_") as work:
                launcher = [] if workers == 0 else [
                    shutil.which("mpiexec"), "--oversubscribe", "-n", str(workers + 1)]
                db = os.path.join(work, "trip.db")
                run_spec(args.fersweep, document, os.path.join(work, "spec.json"), db,
                         ["--threads", "1"], launcher)
                gaps.extend(gaps_ms(db))
        deciles = statistics.quantiles(gaps, n=10)
        ranks = "in-process" if workers == 0 else f"mpiexec -n {workers + 1}"
        median = statistics.median(gaps)
        print(f"| {ranks} | {max(workers, 1)} | {len(gaps)} | {median:.1f} | "
              f"{deciles[0]:.1f}-{deciles[-1]:.1f} | {median - sleep_ms:.1f} |", flush=True)


if __name__ == "__main__":
    main()
