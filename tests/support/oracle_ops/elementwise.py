"""Reference elementwise ops and reductions."""
import torch

from .registry import op


@op("add")
def _add(x, p):
    return x[0] + x[1]


@op("sub")
def _sub(x, p):
    return x[0] - x[1]


@op("mul")
def _mul(x, p):
    return x[0] * x[1]


@op("div")
def _div(x, p):
    return x[0] / x[1]


@op("scale")
def _scale(x, p):
    return x[0] * p["factor"]


@op("add_scalar")
def _add_scalar(x, p):
    return x[0] + p["value"]


@op("square")
def _square(x, p):
    return x[0] * x[0]


@op("relu")
def _relu(x, p):
    return torch.relu(x[0])


@op("sigmoid")
def _sigmoid(x, p):
    return torch.sigmoid(x[0])


@op("tanh")
def _tanh(x, p):
    return torch.tanh(x[0])


@op("exp")
def _exp(x, p):
    return torch.exp(x[0])


@op("sqrt")
def _sqrt(x, p):
    return torch.sqrt(x[0])


@op("clamp_max")
def _clamp_max(x, p):
    return torch.clamp(x[0], max=p["max"])


@op("log")
def _log(x, p):
    return torch.log(x[0])


@op("sum")
def _sum(x, p):
    return x[0].sum(dim=p["axes"], keepdim=p["keepdim"])


@op("mean")
def _mean(x, p):
    return x[0].mean(dim=p["axes"], keepdim=p["keepdim"])


@op("matmul")
def _matmul(x, p):
    return torch.matmul(x[0], x[1])


@op("linear")
def _linear(x, p):
    return torch.nn.functional.linear(x[0], x[1], x[2] if len(x) > 2 else None)
