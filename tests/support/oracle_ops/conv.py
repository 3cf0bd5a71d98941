"""Reference conv2d: our NHWC activations and [out, kh, kw, in/groups] weights run through torch's
NCHW conv2d."""
import torch

from .registry import op, to_nchw, to_nhwc, weight_to_oihw


@op("conv2d")
def _conv2d(x, p):
    bias = x[2] if len(x) > 2 else None
    y = torch.nn.functional.conv2d(to_nchw(x[0]), weight_to_oihw(x[1]), bias,
                                   stride=tuple(p["stride"]), padding=tuple(p["padding"]),
                                   dilation=tuple(p["dilation"]), groups=p["groups"])
    return to_nhwc(y)
