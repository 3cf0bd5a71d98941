"""Reference softmax, cross-entropy, embedding, weighted_sum, concat, zero_op and masked dropout."""
import torch
import torch.nn.functional as F

from .registry import op


@op("softmax")
def _softmax(x, p):
    return torch.softmax(x[0], dim=-1)


@op("log_softmax")
def _log_softmax(x, p):
    return torch.log_softmax(x[0], dim=-1)


@op("cross_entropy")
def _cross_entropy(x, p):
    return F.cross_entropy(x[0], x[1])


@op("embedding")
def _embedding(x, p):
    # Our argument order is (weight, indices).
    return F.embedding(x[1], x[0])


@op("weighted_sum")
def _weighted_sum(x, p):
    w = x[-1]
    return sum(w[i] * x[i] for i in range(len(x) - 1))


@op("concat")
def _concat(x, p):
    return torch.cat(x, dim=p["axis"])


@op("zero_op")
def _zero_op(x, p):
    s = p["stride"]
    return x[0][:, ::s, ::s, :].mul(0.0)


@op("masked_scale")
def _masked_scale(x, p):
    """dropout / drop_path given the engine's 0/1 mask: one entry per element or per sample."""
    mask = x[1].reshape(tuple(x[1].shape) + (1,) * (x[0].dim() - x[1].dim()))
    return x[0] * mask / (1.0 - p["p"])
