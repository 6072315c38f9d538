#!/usr/bin/env python3
"""oneDNN's convolution rate on the small maps of an ImageNet-stem ResNet at 48 px (issue 24), in
both layouts: a 3x3 convolution, batch 64, one thread, on Debian's python3-torch (the same
LibTorch 1.13 as fersweep). Weights in the input's layout, forward alone, and the backward pass
for input and weights; median of 8 after a warm-up. Why fersweep runs ResNet stages on 2x2 maps
NCHW (models::ResNetImpl::nchw_parameters).

    /usr/bin/python3 bench/conv_small_maps.py      # about 20 s

It sets fersweep's heap policy (common/heap.cc) before the first tensor: without it, glibc maps
every large temporary fresh and the kernel faults it in again on each pass, which made the 2x2
backward pass look 3x slower than it trains (docs/BENCHMARKS.md, "Third look").
"""
import time

import heap_policy  # noqa: F401  (before torch: its allocations follow the policy)
import torch  # noqa: E402

SHAPES = ((64, 12), (128, 6), (256, 3), (512, 2))  # channels, map side: the four stages


def median_seconds(run, repeats=8):
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return sorted(times)[repeats // 2]


def main():
    torch.set_num_threads(1)
    torch.manual_seed(1)
    print("| channels | map | layout | forward ms | GFLOP/s | backward ms | GFLOP/s |")
    print("|---|---|---|---|---|---|---|")
    for channels, side in SHAPES:
        for layout in (torch.channels_last, torch.contiguous_format):
            weight = torch.randn(channels, channels, 3, 3).contiguous(memory_format=layout)
            images = torch.randn(64, channels, side, side).contiguous(memory_format=layout)
            weight.requires_grad_()
            images.requires_grad_()
            output = torch.nn.functional.conv2d(images, weight, None, 1, 1)
            grad = torch.ones_like(output)
            forward = median_seconds(lambda: torch.nn.functional.conv2d(images, weight, None, 1, 1))
            backward = median_seconds(
                lambda: torch.autograd.grad(output, [images, weight], grad, retain_graph=True))
            flops = 2 * 64 * side * side * channels * channels * 9
            name = "channels-last" if layout == torch.channels_last else "NCHW"
            print(f"| {channels} | {side}x{side} | {name} | {forward * 1e3:.2f} | "
                  f"{flops / forward / 1e9:.0f} | {backward * 1e3:.2f} | "
                  f"{2 * flops / backward / 1e9:.0f} |", flush=True)


if __name__ == "__main__":
    main()
