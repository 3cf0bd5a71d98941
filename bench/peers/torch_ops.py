"""The torch side of bench's op cases, shared by ops.py (CPU) and gpu_ops.py (CUDA): each case
arrives as the spec of an entry of FuseNAS' case tables (tests/cases): the op's one name, the
torch parameters the parity oracle uses too, and its inputs (NHWC shapes, value ranges, labels).
Activations and conv weights are drawn directly in torch's native NCHW / OIHW layouts."""
import torch
import torch.nn.functional as F

# Ops whose 4-D inputs are NHWC images (torch wants NCHW); conv2d's weight is [out, kh, kw, in].
IMAGE_OPS = {"conv2d", "max_pool2d", "avg_pool2d", "batch_norm"}


def torch_shape(op, index, shape):
    if op in IMAGE_OPS and len(shape) == 4:
        if op == "conv2d" and index == 1:
            o, kh, kw, i = shape
            return [o, i, kh, kw]
        n, h, w, c = shape
        return [n, c, h, w]
    return list(shape)


def build_inputs(case, device):
    """The inputs (None where absent) and which of them want gradients."""
    tensors, wants = [], []
    for i, spec in enumerate(case["inputs"]):
        if spec["absent"]:
            tensors.append(None)
            wants.append(False)
        elif spec["classes"] > 0:
            tensors.append(torch.randint(0, spec["classes"], tuple(spec["shape"]), device=device))
            wants.append(False)
        else:
            shape = torch_shape(case["op"], i, spec["shape"])
            lo, hi = spec["low"], spec["high"]
            tensors.append(torch.rand(*shape, device=device) * (hi - lo) + lo)
            wants.append(spec["grad"])
    return tensors, wants


def forward(case):
    """fn(tensors) -> the op's output, in torch's layout."""
    op, p = case["op"], case["params"]
    if op == "conv2d":
        return lambda t: F.conv2d(t[0], t[1], t[2] if len(t) > 2 else None, tuple(p["stride"]),
                                  tuple(p["padding"]), tuple(p["dilation"]), p["groups"])
    if op == "max_pool2d":
        return lambda t: F.max_pool2d(t[0], p["kernel"], p["stride"], p["padding"])
    if op == "avg_pool2d":
        return lambda t: F.avg_pool2d(t[0], p["kernel"], p["stride"], p["padding"],
                                      count_include_pad=p["count_include_pad"])
    if op == "batch_norm":
        return lambda t: F.batch_norm(t[0], t[3], t[4], t[1], t[2], training=p["training"],
                                      momentum=p["momentum"], eps=p["eps"])
    if op == "relu":
        return lambda t: F.relu(t[0])
    if op == "add":
        return lambda t: t[0] + t[1]
    if op == "weighted_sum":
        return lambda t: sum(t[-1][i] * t[i] for i in range(len(t) - 1))
    if op == "softmax":
        return lambda t: F.softmax(t[0], dim=-1)
    if op == "cross_entropy":
        return lambda t: F.cross_entropy(t[0], t[1])
    raise SystemExit(f"torch_ops.py: no bench peer for op {op}")
