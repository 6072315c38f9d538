"""Two training steps of a PyTorch reference, for fersweep's step-equivalence test (issue 26).

    python3 step_reference.py CASE.json

CASE.json names the initial weights (a LibTorch archive written by fersweep's torch::save, which
torch.jit.load reads), the batches (uint8 pixels and labels), the resolved trial config and the
weights fersweep had after its steps. The networks are torchvision's (stem and classifier set for
1-channel 32 px faces and the trial's classes) or, for vgg_custom, written here from its spec
description; the optimizer is torch.optim's with PyTorch's defaults for all the trial does not
set. Prints one JSON object: the losses of both sides and the largest differences.
"""
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

PIXEL_CENTRE, PIXEL_SCALE = 127.5, 64.0  # docs/DATA.md: how a batch is normalised


def vgg_custom(p, classes, size):
    layers, channels = [], 1
    for width in p["filters"]:
        for _ in range(p.get("convs_per_block", 2)):
            batch_norm = p.get("batch_norm", True)
            layers.append(nn.Conv2d(channels, width, 3, padding=1, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(width))
            layers.append(nn.ReLU(inplace=True))
            channels = width
        layers.append(nn.MaxPool2d(2))
        size //= 2
    head, inputs, dropout = [], channels * size * size, p.get("dropout", 0.5)
    for width in p.get("dense", [256]):
        head += [nn.Linear(inputs, width), nn.ReLU(inplace=True)]
        if dropout > 0:
            head.append(nn.Dropout(dropout))
        inputs = width
    head.append(nn.Linear(inputs, classes))
    return nn.Sequential(nn.Sequential(*layers), nn.Flatten(), nn.Sequential(*head))


def torchvision_init(layer):
    """A layer put in after construction, initialised as torchvision's constructors initialise
    their own (their loop has run by then): convolutions Kaiming-normal fan-out, VGG's linear layers
    N(0, 0.01), biases zero. Left at PyTorch's defaults, a replaced 1-channel stem starts about 3x
    larger, and ResNet-50 trained measurably better for it (docs/MODELS.md)."""
    if isinstance(layer, nn.Conv2d):
        nn.init.kaiming_normal_(layer.weight, mode="fan_out", nonlinearity="relu")
    else:
        nn.init.normal_(layer.weight, 0, 0.01)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer


def first_conv(conv, stride):
    return torchvision_init(
        nn.Conv2d(1, conv.out_channels, conv.kernel_size, stride, conv.padding, bias=False))


def reference_model(p, classes, size):
    """torchvision's network for a trial's params (the spec's defaults where a key is absent)."""
    arch, small = p["arch"], p.get("stem", "imagenet") == "small"
    if arch == "vgg_custom":
        return vgg_custom(p, classes, size)
    if arch == "vgg16":
        model = torchvision.models.vgg16(num_classes=classes)
        model.features[0] = torchvision_init(nn.Conv2d(1, 64, 3, padding=1))
        if small:  # the features are 1x1 at 32 px: no 7x7 copies, a 512-wide head
            model.avgpool = nn.AdaptiveAvgPool2d(1)
            model.classifier[0] = torchvision_init(nn.Linear(512, 4096))
        for module in model.classifier:
            if isinstance(module, nn.Dropout):
                module.p = p.get("dropout", 0.5)
        return model
    if arch.startswith("resnet"):
        model = getattr(torchvision.models, arch)(num_classes=classes)
        if small:
            model.conv1 = torchvision_init(nn.Conv2d(1, 64, 3, 1, 1, bias=False))
            model.maxpool = nn.Identity()
        else:
            model.conv1 = torchvision_init(nn.Conv2d(1, 64, 7, 2, 3, bias=False))
        return model
    if arch == "mobilenet_v2":
        model = torchvision.models.mobilenet_v2(
            num_classes=classes, width_mult=p.get("width_multiplier", 1.0),
            dropout=p.get("dropout", 0.2))
        model.features[0][0] = first_conv(model.features[0][0], 1 if small else 2)
        return model
    if arch == "efficientnet_b0":
        model = torchvision.models.efficientnet_b0(
            num_classes=classes, stochastic_depth_prob=p.get("stochastic_depth", 0.2))
        model.features[0][0] = first_conv(model.features[0][0], 1 if small else 2)
        model.classifier[0].p = p.get("dropout", 0.2)
        return model
    raise ValueError(f"unknown arch {arch}")


def tensors_in_order(module):
    return list(module.named_parameters()) + list(module.named_buffers())


def load_by_order(model, archive):
    """Copies fersweep's weights in registration order, shape by shape: the two layouts must agree
    tensor for tensor (names differ only where torchvision keeps modules fersweep leaves out)."""
    ours, theirs = tensors_in_order(model), tensors_in_order(archive)
    if len(ours) != len(theirs):
        raise SystemExit(f"layout: {len(ours)} tensors in the reference, {len(theirs)} in fersweep")
    with torch.no_grad():
        for (name, mine), (their_name, value) in zip(ours, theirs):
            if mine.shape != value.shape:
                raise SystemExit(f"layout: {name} {tuple(mine.shape)} vs {their_name} "
                                 f"{tuple(value.shape)}")
            mine.copy_(value)
    return [(name, their_name) for (name, _), (their_name, _) in zip(ours, theirs)]


def optimizer_for(p, parameters):
    name, lr = p.get("optimizer", "adam"), p.get("lr", 1e-3)
    weight_decay = p.get("weight_decay", 0.0)
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=lr, momentum=p.get("momentum", 0.9),
                               nesterov=p.get("nesterov", False), weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(parameters, lr=lr, weight_decay=weight_decay)
    return torch.optim.Adam(parameters, lr=lr, weight_decay=weight_decay)


def main():
    case = json.load(open(sys.argv[1]))
    torch.set_num_threads(1)
    p, classes, size = case["params"], case["classes"], case["image_size"]
    model = reference_model(p, classes, size)
    pairs = load_by_order(model, torch.jit.load(case["initial"]))
    if case.get("channels_last"):
        model = model.to(memory_format=torch.channels_last)
        # The stages fersweep keeps NCHW on tiny maps: their weights, and their input from the
        # first of them on.
        prefixes = case.get("nchw_parameters", [])
        with torch.no_grad():
            for name, parameter in model.named_parameters():
                if any(name.startswith(prefix) for prefix in prefixes):
                    # Fresh NCHW strides: a 1x1 kernel's channels-last ones pass as contiguous.
                    parameter.data = torch.empty_like(
                        parameter.data, memory_format=torch.contiguous_format).copy_(parameter.data)
        if prefixes:
            first = model.get_submodule(prefixes[0].rstrip("."))
            first.register_forward_pre_hook(lambda module, inputs: (inputs[0].contiguous(),))
    model.train()
    optimizer = optimizer_for(p, model.parameters())
    losses = []
    for batch in case["batches"]:
        pixels = torch.tensor(batch["pixels"], dtype=torch.uint8).view(-1, 1, size, size)
        images = (pixels.float() - PIXEL_CENTRE) / PIXEL_SCALE
        labels = torch.tensor(batch["labels"], dtype=torch.int64)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels,
                               label_smoothing=p.get("label_smoothing", 0.0))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    after = dict(tensors_in_order(torch.jit.load(case["after"])))
    initial = dict(tensors_in_order(torch.jit.load(case["initial"])))
    mine = dict(tensors_in_order(model))
    worst = {"parameter": (0.0, ""), "buffer": (0.0, ""), "moved": 0.0}
    parameter_names = {name for name, _ in model.named_parameters()}
    for name, their_name in pairs:
        ours, theirs = mine[name].float(), after[their_name].float()
        difference = (ours - theirs).abs().max().item() if ours.numel() else 0.0
        kind = "parameter" if name in parameter_names else "buffer"
        if difference > worst[kind][0]:
            worst[kind] = (difference, their_name)
        if kind == "parameter":
            moved = (theirs - initial[their_name].float()).abs().max().item()
            worst["moved"] = max(worst["moved"], moved)
    print(json.dumps({"reference_losses": losses,
                      "parameter_difference": worst["parameter"][0],
                      "parameter_worst": worst["parameter"][1],
                      "buffer_difference": worst["buffer"][0],
                      "buffer_worst": worst["buffer"][1],
                      "largest_update": worst["moved"],
                      "tensors": len(pairs)}))


if __name__ == "__main__":
    main()
