#!/usr/bin/env python3
"""PyTorch-eager reference for bench/train_vs_pytorch.sh: trains the same network on the same
amount of 48x48 grayscale data with the same batch, optimiser, augmentation and thread count as a
fersweep trial, and prints training images per second (data assembly included), averaged over
all epochs as fersweep's `images_per_second` is.

The data pipeline is what a PyTorch user writes: resident uint8 tensors, a fresh permutation per
epoch, and per sample torchvision's RandomCrop(48, padding=2, padding_mode="edge") and
RandomHorizontalFlip, then the same (x - 127.5) / 64 normalisation.

    /usr/bin/python3 bench/train_reference.py --arch vgg_custom --threads 1 [--channels-last]

--channels-last converts the model with `model.to(memory_format=torch.channels_last)`, as the
PyTorch performance guide recommends, which is what fersweep's trainer does: the fair comparison
for the layout, beside the plain eager loop most scripts run.
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


def modified_vgg(classes=7):
    """The seed report's modified VGG as fersweep's vgg_custom builds it (docs/MODELS.md):
    filters 32/64/128/256, two 3x3 convolutions with batch norm per block, two dense layers of 64
    with batch norm, dropout 0.5."""
    layers, channels = [], 1
    for width in (32, 64, 128, 256):
        for _ in range(2):
            layers += [nn.Conv2d(channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
                       nn.ReLU(inplace=True)]
            channels = width
        layers.append(nn.MaxPool2d(2))
    head, inputs = [nn.Flatten()], 256 * 3 * 3
    for width in (64, 64):
        head += [nn.Linear(inputs, width), nn.BatchNorm1d(width), nn.ReLU(inplace=True),
                 nn.Dropout(0.5)]
        inputs = width
    return nn.Sequential(*layers, *head, nn.Linear(inputs, classes))


def mobilenet_v2(classes=7):
    model = torchvision.models.mobilenet_v2(num_classes=classes)
    model.features[0][0] = nn.Conv2d(1, 32, 3, 2, 1, bias=False)
    return model


def augment(batch, generator):
    """fersweep's default augmentation (docs/DATA.md) per sample: a shift of up to 2 pixels per
    axis with the edges replicated, and a flip with probability 1/2."""
    out = torch.empty_like(batch)
    padded = F.pad(batch, (2, 2, 2, 2), mode="replicate")
    height, width = batch.shape[-2:]
    for i in range(batch.shape[0]):
        dx, dy = torch.randint(0, 5, (2,), generator=generator).tolist()
        crop = padded[i, :, dy:dy + height, dx:dx + width]
        if torch.rand(1, generator=generator).item() < 0.5:
            crop = crop.flip(2)
        out[i] = crop
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", choices=["vgg_custom", "mobilenet_v2"], required=True)
    parser.add_argument("--images", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--channels-last", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (args.images, 1, 48, 48), dtype=torch.uint8)
    labels = torch.randint(0, 7, (args.images,))
    model = modified_vgg() if args.arch == "vgg_custom" else mobilenet_v2()
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    seconds = 0.0
    for _ in range(args.epochs):
        start = time.perf_counter()
        order = torch.randperm(args.images, generator=generator)
        for first in range(0, args.images, args.batch):
            index = order[first:first + args.batch]
            x = augment(images[index].float().sub_(127.5).div_(64.0), generator)
            if args.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            y = labels[index]
            optimiser.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimiser.step()
            loss.item()  # as fersweep reads every batch's loss
        seconds += time.perf_counter() - start
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"{args.arch} {params} {args.images * args.epochs / seconds:.1f}")


if __name__ == "__main__":
    main()
