"""Writes torchvision_parameters.txt: every parameter and buffer (name and shape) of the
torchvision models fersweep reimplements, with 1 input channel and 6 classes, so that
models_test can check the C++ zoo name for name and shape for shape.

    /usr/bin/python3 tests/data/torchvision_reference.py > tests/data/torchvision_parameters.txt

Needs Debian's python3-torch and python3-torchvision (0.14).
"""
import torch
import torchvision
from torchvision import models


def one_channel(model, path):
    """Replaces the first convolution (at attribute path `path`) by a 1-channel one."""
    *parents, last = path.split(".")
    owner = model
    for p in parents:
        owner = owner[int(p)] if p.isdigit() else getattr(owner, p)
    old = owner[int(last)] if last.isdigit() else getattr(owner, last)
    new = torch.nn.Conv2d(1, old.out_channels, old.kernel_size, old.stride, old.padding,
                          bias=old.bias is not None)
    if last.isdigit():
        owner[int(last)] = new
    else:
        setattr(owner, last, new)
    return model


CASES = [
    ("vgg16", lambda: one_channel(models.vgg16(num_classes=6), "features.0")),
    ("resnet18", lambda: one_channel(models.resnet18(num_classes=6), "conv1")),
    ("resnet34", lambda: one_channel(models.resnet34(num_classes=6), "conv1")),
    ("resnet50", lambda: one_channel(models.resnet50(num_classes=6), "conv1")),
    ("mobilenet_v2", lambda: one_channel(models.mobilenet_v2(num_classes=6), "features.0.0")),
    ("mobilenet_v2@0.5",
     lambda: one_channel(models.mobilenet_v2(num_classes=6, width_mult=0.5), "features.0.0")),
    ("efficientnet_b0", lambda: one_channel(models.efficientnet_b0(num_classes=6), "features.0.0")),
]

print(f"# torchvision {torchvision.__version__}, torch {torch.__version__}: "
      "model, kind, name, shape (x-separated)")
for name, build in CASES:
    model = build()
    for kind, tensors in (("param", model.named_parameters()), ("buffer", model.named_buffers())):
        for tensor_name, tensor in tensors:
            shape = "x".join(str(d) for d in tensor.shape) or "scalar"
            print(name, kind, tensor_name, shape)
