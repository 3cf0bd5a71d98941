"""Registry of PyTorch reference ops for torch_oracle.py, and NHWC/NCHW layout helpers."""
OPS = {}


def op(name):
    def register(fn):
        OPS[name] = fn
        return fn
    return register


def to_nchw(x):
    """Our activations are NHWC; torch's conv/pool/bn want NCHW."""
    return x.permute(0, 3, 1, 2)


def to_nhwc(x):
    return x.permute(0, 2, 3, 1)


def weight_to_oihw(w):
    """Our conv weights are [out, kh, kw, in/groups]; torch wants [out, in/groups, kh, kw]."""
    return w.permute(0, 3, 1, 2)
