#!/usr/bin/env python3
"""Training fidelity (issue 26): every architecture trained by fersweep and by an independent
PyTorch reference on the same faces, over seeds, with the difference and its 95 % interval.

Both sides read one `fersweep data synth --format folders` tree (32 px PNGs, its train/ and val/
folders as the split), train the same epochs with Adam 1e-3 (or the rate --lr gives), batch 64,
no augmentation, constant rate and 1 thread, and report the last epoch's validation macro-F1 and
loss. The reference is tests/fidelity/step_reference.py's networks (torchvision 0.14's layouts,
PyTorch's own initialisation and defaults) in a plain PyTorch loop; fersweep runs `fersweep run`.

    /usr/bin/python3 bench/fidelity.py --fersweep build/cli/fersweep [--seeds 5] [--jobs 2]
        [--archs vgg_custom,resnet18] [--epochs 6] [--count 1500] [--lr 1e-3] [--first-seed 1]

--lr sets both sides' Adam rate (VGG-16, which has no batch-norm, needs 1e-4 to leave the one-class
plateau); --first-seed adds seeds to an earlier run's without repeating them.

Needs python3-torch, python3-torchvision, python3-pil, python3-sklearn and python3-scipy
(Debian).
"""
import argparse
import concurrent.futures
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fidelity"))

# Small widths where the architecture allows; the fixed-width networks as they are.
ARCHS = {
    "vgg_custom": {"arch": "vgg_custom", "filters": [16, 32, 64], "dense": [64]},
    "vgg16": {"arch": "vgg16", "stem": "small"},
    "resnet18": {"arch": "resnet18", "stem": "imagenet"},
    "resnet34": {"arch": "resnet34", "stem": "imagenet"},
    "resnet50": {"arch": "resnet50", "stem": "imagenet"},
    "mobilenet_v2": {"arch": "mobilenet_v2", "stem": "small", "width_multiplier": 0.5},
    "efficientnet_b0": {"arch": "efficientnet_b0", "stem": "imagenet"},
}
COMMON = {"batch_size": 64, "lr": 1e-3, "optimizer": "adam", "augment": False}
CLASSES, SIZE = 7, 32
EMOTIONS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]  # fer7's order


def run_fersweep(binary, faces, params, seed, epochs, work):
    name = f"{params['arch']}_{seed}"
    spec = {"name": f"fidelity-{name}", "method": "grid", "seed": seed, "epochs": epochs,
            "metric": {"name": "val_macro_f1", "goal": "maximize"}, "budget": {"trials": 1},
            "data": {"image_size": SIZE, "seed": 1, "split": "given",
                     "sources": {"faces": {"format": "folders", "path": faces}}},
            "resources": {"threads_per_worker": 1},
            "parameters": {k: {"value": v} for k, v in {**params, **COMMON}.items()}}
    spec_path, db = os.path.join(work, name + ".json"), os.path.join(work, name + ".db")
    with open(spec_path, "w") as out:
        json.dump(spec, out)
    subprocess.run([binary, "run", spec_path, "--db", db, "--checkpoints", "none", "--quiet"],
                   check=True, stdout=subprocess.DEVNULL)
    shown = json.loads(subprocess.run([binary, "results", "--db", db, "show", "1", "--json"],
                                      check=True, capture_output=True, text=True).stdout)
    last = shown["epochs"][-1]
    values = last.get("values", last)
    return values["val_macro_f1"], values["val_loss"]


def read_faces(root, split):
    import numpy as np
    import torch
    from PIL import Image
    pixels, labels = [], []
    for label, emotion in enumerate(EMOTIONS):
        for path in sorted(glob.glob(os.path.join(root, split, emotion, "*.png"))):
            pixels.append(np.asarray(Image.open(path).convert("L"), dtype=np.uint8))
            labels.append(label)
    return (torch.from_numpy(np.stack(pixels)).view(-1, 1, SIZE, SIZE),
            torch.tensor(labels, dtype=torch.int64))


def train_reference(faces, params, seed, epochs):
    import torch
    import torch.nn.functional as F
    from sklearn.metrics import f1_score
    from step_reference import PIXEL_CENTRE, PIXEL_SCALE, reference_model
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    normalise = lambda pixels: (pixels.float() - PIXEL_CENTRE) / PIXEL_SCALE  # noqa: E731
    (train_x, train_y), (val_x, val_y) = read_faces(faces, "train"), read_faces(faces, "val")
    model = reference_model(params, CLASSES, SIZE)
    optimizer = torch.optim.Adam(model.parameters(), lr=COMMON["lr"])
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(train_y), generator=generator)
        for first in range(0, len(order), COMMON["batch_size"]):
            index = order[first:first + COMMON["batch_size"]]
            optimizer.zero_grad()
            F.cross_entropy(model(normalise(train_x[index])), train_y[index]).backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(normalise(val_x[i:i + 256])) for i in range(0, len(val_y), 256)])
    loss = F.cross_entropy(logits, val_y).item()
    f1 = f1_score(val_y.numpy(), logits.argmax(1).numpy(), average="macro", zero_division=0)
    return float(f1), loss


def welch(a, b):
    """Mean of a - b and its 95 % Welch interval."""
    from scipy import stats
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    dof = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1)) if va + vb else 1
    half = stats.t.ppf(0.975, dof) * (va + vb) ** 0.5
    diff = statistics.mean(a) - statistics.mean(b)
    return diff, diff - half, diff + half


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fersweep", required=True)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--archs", default=",".join(ARCHS))
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--count", type=int, default=1500)
    parser.add_argument("--lr", type=float, default=COMMON["lr"])
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--reference-worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seeds < 2 and not args.reference_worker:
        parser.error("--seeds: at least 2 a side, for the spread and the Welch interval")
    COMMON["lr"] = args.lr
    if args.reference_worker:  # one reference training in its own process (1 thread)
        faces, arch, seed, epochs = args.reference_worker
        print(json.dumps(train_reference(faces, ARCHS[arch], int(seed), int(epochs))))
        return

    work = tempfile.mkdtemp(prefix="fersweep_fidelity_")
    faces = os.path.join(work, "faces")
    subprocess.run([args.fersweep, "data", "synth", "--format", "folders", "--count",
                    str(args.count), "--seed", "1", "--image-size", str(SIZE), "--out", faces],
                   check=True, stdout=subprocess.DEVNULL)
    archs = args.archs.split(",")

    def reference(arch, seed):
        out = subprocess.run([sys.executable, os.path.abspath(__file__), "--fersweep",
                              args.fersweep, "--lr", repr(args.lr), "--reference-worker", faces,
                              arch, str(seed), str(args.epochs)],
                             check=True, capture_output=True, text=True)
        return tuple(json.loads(out.stdout))

    pool = concurrent.futures.ThreadPoolExecutor(args.jobs)
    tasks = {}
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    for arch in archs:  # in this order: each row prints as soon as its networks are trained
        for seed in seeds:
            tasks[(arch, seed, "fersweep")] = pool.submit(
                run_fersweep, args.fersweep, faces, ARCHS[arch], seed, args.epochs, work)
            tasks[(arch, seed, "pytorch")] = pool.submit(reference, arch, seed)
    print(f"{args.count} faces at {SIZE} px (train/val folders), {args.epochs} epochs, "
          f"Adam {args.lr:g}, batch 64, no augmentation, seeds {seeds.start}-{seeds.stop - 1} "
          "a side\n")
    print("| network | fersweep val macro-F1 | PyTorch val macro-F1 | difference [95 % CI] | "
          "fersweep val loss | PyTorch val loss | difference [95 % CI] |")
    print("|---|---|---|---|---|---|---|", flush=True)
    results = {}
    for arch in archs:
        for seed in seeds:
            for s in ("fersweep", "pytorch"):
                results[(arch, seed, s)] = tasks[(arch, seed, s)].result()
        side = {s: [results[(arch, seed, s)] for seed in seeds]
                for s in ("fersweep", "pytorch")}
        cells = []
        for index in (0, 1):
            ours = [r[index] for r in side["fersweep"]]
            theirs = [r[index] for r in side["pytorch"]]
            diff, low, high = welch(ours, theirs)
            cells += [f"{statistics.mean(ours):.3f} ± {statistics.stdev(ours):.3f}",
                      f"{statistics.mean(theirs):.3f} ± {statistics.stdev(theirs):.3f}",
                      f"{diff:+.3f} [{low:+.3f}, {high:+.3f}]"]
        print(f"| {arch} | " + " | ".join(cells) + " |", flush=True)
    pool.shutdown()
    print("\nper seed (F1, loss):", json.dumps({f"{a}/{s}/{side}": r for (a, s, side), r in
                                                 results.items()}))


if __name__ == "__main__":
    main()
