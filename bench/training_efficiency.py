#!/usr/bin/env python3
"""Training against the machine's limit (issue 24): each network's training rate in GFLOP/s
as a fraction of the fp32 rate LibTorch attains on the same threads.

    /usr/bin/python3 bench/training_efficiency.py --fersweep build/cli/fersweep \
        --gemm-rate build/bench/gemm_rate [--threads 1] [--batch 64] [--image-size 48] \
        [--archs vgg_custom,resnet18] [--blas-dir DIR]

The limit is the best of build/bench/gemm_rate's three measurements, each the higher of a run
before and a run after the models: a 2048 matrix product through the BLAS (dense layers) and two
convolutions through oneDNN (every convolution of a channels-last network). A network's training
rate is 3 x its forward FLOPs (forward, and a backward pass of about twice the forward) x the
images of one step / the step's time, both from `fersweep models` (median of --repeats timed Adam
steps after a warm-up). --blas-dir puts another libblas.so.3 first on LD_LIBRARY_PATH for both
programs, e.g. an unpacked libopenblas0-openmp (usr/lib/x86_64-linux-gnu/openblas-openmp), to
compare BLAS builds without installing them.
"""
import argparse
import json
import os
import subprocess

RATES = ("sgemm_gflops", "conv3x3_gflops", "conv1x1_gflops")  # gemm_rate's measurements

def run_json(command, env):
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True,
                                     env=env).stdout)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fersweep", required=True)
    parser.add_argument("--gemm-rate", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--image-size", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--archs", help="comma-separated (default: all)")
    parser.add_argument("--stem", default="both")
    parser.add_argument("--blas-dir")
    args = parser.parse_args()
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    if args.blas_dir:
        env["LD_LIBRARY_PATH"] = os.pathsep.join(
            p for p in (os.path.abspath(args.blas_dir), env.get("LD_LIBRARY_PATH")) if p)

    before = run_json([args.gemm_rate, str(args.threads)], env)
    command = [args.fersweep, "models", "--threads", str(args.threads), "--batch",
               str(args.batch), "--image-size", str(args.image_size), "--repeats",
               str(args.repeats), "--stem", args.stem, "--json"]
    if args.archs:
        command += ["--arch", args.archs]
    models = run_json(command, env)
    # The rate this virtual machine gives one core drifts by up to a third between minutes, so
    # the limit is measured on both sides of the models and the higher taken: what it attains.
    after = run_json([args.gemm_rate, str(args.threads)], env)
    limit = {rate: max(before[rate], after[rate]) for rate in RATES}
    best = max(limit.values())

    print(f"{args.threads} thread(s), batch {args.batch}, {args.image_size} px, BLAS "
          f"{args.blas_dir or 'the system libblas.so.3'}: sgemm {limit['sgemm_gflops']:.1f}, "
          f"oneDNN 3x3 convolution {limit['conv3x3_gflops']:.1f}, 1x1 "
          f"{limit['conv1x1_gflops']:.1f} GFLOP/s; limit {best:.1f}\n")
    print("| arch | stem | forward GFLOP per image | step s | training GFLOP/s | of the limit "
          "| peak RSS MiB |")
    print("|---|---|---|---|---|---|---|")
    for m in models:
        rate = 3 * m["forward_flops"] * m["batch"] / m["step_seconds"] / 1e9
        print(f"| {m['arch']} | {m['stem']} | {m['forward_flops'] / 1e9:.3f} | "
              f"{m['step_seconds']:.3f} | {rate:.1f} | {100 * rate / best:.0f} % | "
              f"{m.get('step_peak_rss_bytes', 0) / 2**20:.0f} |", flush=True)


if __name__ == "__main__":
    main()
