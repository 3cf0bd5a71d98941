"""Reference pooling and batch norm ops (NHWC in and out; torch runs them in NCHW)."""
import torch
import torch.nn.functional as F

from .registry import op, to_nchw, to_nhwc


@op("max_pool2d")
def _max_pool2d(x, p):
    return to_nhwc(F.max_pool2d(to_nchw(x[0]), p["kernel"], p["stride"], p["padding"]))


@op("avg_pool2d")
def _avg_pool2d(x, p):
    return to_nhwc(F.avg_pool2d(to_nchw(x[0]), p["kernel"], p["stride"], p["padding"],
                                count_include_pad=p["count_include_pad"]))


@op("global_avg_pool")
def _global_avg_pool(x, p):
    return F.adaptive_avg_pool2d(to_nchw(x[0]), 1).flatten(1)


@op("batch_norm")
def _batch_norm(x, p):
    """inputs: x, weight, bias, running_mean, running_var (any but x may be missing). Returns y
    and, when given, the running stats after the call."""
    inp, weight, bias, rm, rv = x
    rm = rm.clone() if rm is not None else None
    rv = rv.clone() if rv is not None else None
    four_d = inp.dim() == 4
    y = F.batch_norm(to_nchw(inp) if four_d else inp, rm, rv, weight, bias,
                     training=p["training"], momentum=p["momentum"], eps=p["eps"])
    y = to_nhwc(y) if four_d else y
    return (y, rm, rv) if rm is not None else y
