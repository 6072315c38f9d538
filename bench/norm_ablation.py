#!/usr/bin/env python3
"""How much of a network's training step fused normalisation could win back (issue 24): the same
step with its batch norms, then its ReLUs as well, then its optimizer step removed.

    cmake --build build --target gemm_rate fersweep
    /usr/bin/python3 bench/norm_ablation.py --fersweep build/cli/fersweep \
        --gemm-rate build/bench/gemm_rate [--archs resnet18,resnet34,resnet50] [--rounds 2]

A fused batch-norm + ReLU (+ residual add) kernel for training can at best make those passes
free. This measures that ceiling instead of guessing it from a profiler, whose per-operator cost
inflates small memory-bound operators: torchvision's network (the architecture fersweep's
`"stem": "imagenet"` ResNets reproduce tensor for tensor, tests/models_test.cc), one input
channel, 48 px, channels-last, batch 64, one LibTorch thread, Adam, on Debian's PyTorch, which
runs the same LibTorch kernels as fersweep, under fersweep's heap policy (common/heap.cc). Each
variant is timed in its own process (median of 5 steps after 2 of warm-up), rounds interleaved,
since this machine's rate drifts between minutes:

- `full`: the real step;
- `no norm`: every BatchNorm2d replaced by an identity (the convolutions see other values, but
  not other shapes, so they cost the same);
- `no norm, no ReLU`: ReLUs replaced as well;
- `no norm, no ReLU, no optimizer`: forward and backward only.

Each row gives the training rate (3 x forward FLOPs from `fersweep models` x 64 / step time) as a
fraction of the limit, oneDNN's 3x3 convolution rate from build/bench/gemm_rate (the limit
bench/training_efficiency.py uses), measured before and after, the higher taken. `fersweep
models`' own step for the same network is printed beside it. Prints Markdown; docs/BENCHMARKS.md
holds the last run.
"""
import argparse
import os
import statistics
import sys

from training_efficiency import run_json

VARIANTS = ("full", "no norm", "no norm, no ReLU", "no norm, no ReLU, no optimizer")

# One timed variant, run in a fresh interpreter so that no variant inherits another's heap.
CHILD = r"""
import json, sys, time
import heap_policy  # before torch: its allocations follow the policy
import torch, torchvision
arch, variant, batch, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(1)
torch.manual_seed(0)
net = getattr(torchvision.models, arch)(num_classes=7)
net.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)
removed = {"no norm": (torch.nn.BatchNorm2d,)}.get(variant, (torch.nn.BatchNorm2d, torch.nn.ReLU))
def strip(module):
    for name, child in module.named_children():
        if isinstance(child, removed):
            setattr(module, name, torch.nn.Identity())
        else:
            strip(child)
if variant != "full":
    strip(net)
net = net.to(memory_format=torch.channels_last).train()
optimizer = torch.optim.Adam(net.parameters(), 1e-3)
x = torch.randn(batch, 1, size, size).contiguous(memory_format=torch.channels_last)
y = torch.randint(0, 7, (batch,))
def step():
    optimizer.zero_grad(set_to_none=True)
    torch.nn.functional.cross_entropy(net(x), y).backward()
    if not variant.endswith("no optimizer"):
        optimizer.step()
for _ in range(2):
    step()
seconds = []
for _ in range(5):
    start = time.perf_counter()
    step()
    seconds.append(time.perf_counter() - start)
print(json.dumps({"seconds": sorted(seconds)[2]}))
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fersweep", required=True)
    parser.add_argument("--gemm-rate", required=True)
    parser.add_argument("--archs", default="resnet18,resnet34,resnet50")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--image-size", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    # The child finds heap_policy.py beside this script.
    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(filter(None, (os.path.dirname(os.path.abspath(
                   __file__)), os.environ.get("PYTHONPATH")))))
    archs = args.archs.split(",")

    limits = [run_json([args.gemm_rate, "1"], env)["conv3x3_gflops"]]
    models = {m["arch"]: m for m in run_json(
        [args.fersweep, "models", "--arch", ",".join(archs), "--stem", "imagenet", "--threads",
         "1", "--batch", str(args.batch), "--image-size", str(args.image_size), "--repeats", "5",
         "--json"], env)}
    seconds = {(arch, v): [] for arch in archs for v in VARIANTS}
    for _ in range(args.rounds):
        for arch in archs:
            for variant in VARIANTS:
                seconds[(arch, variant)].append(run_json(
                    [sys.executable, "-c", CHILD, arch, variant, str(args.batch),
                     str(args.image_size)], env)["seconds"])
    limits.append(run_json([args.gemm_rate, "1"], env)["conv3x3_gflops"])
    limit = max(limits)

    print(f"Limit: oneDNN's 3x3 convolution, {limits[0]:.1f} before and {limits[1]:.1f} "
          f"GFLOP/s after; {limit:.1f} taken. Step: median of 5, per round; rate and fraction "
          f"from the median over {args.rounds} rounds.\n")
    print("| arch | step | step ms per round | training GFLOP/s | of the limit |")
    print("|---|---|---|---|---|")
    for arch in archs:
        flop = 3 * models[arch]["forward_flops"] * args.batch
        own = models[arch]["step_seconds"]
        print(f"| {arch} | fersweep's, full | {own * 1e3:.0f} | {flop / own / 1e9:.1f} | "
              f"{flop / own / 1e9 / limit:.0%} |")
        for variant in VARIANTS:
            times = seconds[(arch, variant)]
            rate = flop / statistics.median(times) / 1e9
            print(f"| {arch} | PyTorch's, {variant} | "
                  f"{', '.join(f'{t * 1e3:.0f}' for t in times)} | {rate:.1f} | "
                  f"{rate / limit:.0%} |")


if __name__ == "__main__":
    main()
