#!/usr/bin/env python3
"""PyTorch 2.x reference for bench/gpu/run.sh: images/s of one network training on one GPU at
48x48, batch 256, the way a careful PyTorch user writes it: data resident on the GPU as uint8,
flip + 2 px shift done on the GPU per batch, channels-last, bf16 autocast, torch.compile, cuDNN
autotuning. Prints "<arch> <parameters> <images/s>", like bench/train_reference.py.

    python3 bench/gpu/train_reference_gpu.py --arch vgg_custom [--no-compile]
"""
import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from train_reference import mobilenet_v2, modified_vgg  # noqa: E402  same layouts as fersweep


def resnet18(classes=7):
    import torchvision
    model = torchvision.models.resnet18(num_classes=classes)
    model.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)
    return model


def augment(x, generator):
    """Random flip and a 2 px edge-padded shift per image, batched on the GPU."""
    n = x.shape[0]
    flip = torch.rand(n, device=x.device, generator=generator) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    padded = F.pad(x, (2, 2, 2, 2), mode="replicate")
    dx, dy = torch.randint(0, 5, (2, n), device=x.device, generator=generator)
    rows = (dy[:, None] + torch.arange(48, device=x.device))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(48, device=x.device))[:, None, None, :]
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    # An index tensor on each of dims 0, 2 and 3 with the channel picked by an integer: a slice
    # between index tensors would move the broadcast dims to the front (a rank-5 result).
    return padded[batch, 0, rows, cols]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", choices=["vgg_custom", "mobilenet_v2", "resnet18"], required=True)
    parser.add_argument("--images", type=int, default=20480)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--no-compile", action="store_true")
    args = parser.parse_args()
    device = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    generator = torch.Generator(device=device).manual_seed(0)
    images = torch.randint(0, 256, (args.images, 1, 48, 48), dtype=torch.uint8, device=device)
    labels = torch.randint(0, 7, (args.images,), device=device)
    build = {"vgg_custom": modified_vgg, "mobilenet_v2": mobilenet_v2, "resnet18": resnet18}
    model = build[args.arch]().to(device, memory_format=torch.channels_last)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    step_model = model if args.no_compile else torch.compile(model)
    model.train()
    seconds, counted = 0.0, 0
    for epoch in range(args.epochs):
        torch.cuda.synchronize()
        start = time.perf_counter()
        order = torch.randperm(args.images, device=device, generator=generator)
        for first in range(0, args.images - args.batch + 1, args.batch):
            index = order[first:first + args.batch]
            x = augment(images[index].float().sub_(127.5).div_(64.0), generator)
            x = x.contiguous(memory_format=torch.channels_last)
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = F.cross_entropy(step_model(x), labels[index])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
        torch.cuda.synchronize()
        if epoch > 0:  # the first epoch compiles and autotunes
            seconds += time.perf_counter() - start
            counted += args.images // args.batch * args.batch
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"{args.arch} {params} {counted / seconds:.1f}")


if __name__ == "__main__":
    main()
