#!/usr/bin/env python3
"""PyTorch side of the parity tests: reads cases from a safetensors file, runs each op in torch
(CPU) forward and backward, and writes outputs and input gradients to another safetensors file.

Ops live in oracle_ops/*.py; each module registers functions with @op("name"). An op function
takes (inputs, params) and returns a tuple of outputs; the first n_grad_outputs of them are
differentiated against the given output gradients."""
import importlib
import json
import pathlib
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from oracle_ops import registry  # noqa: E402

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "U8": np.uint8}
CODES = {np.dtype(v): k for k, v in DTYPES.items()}


def read_safetensors(path):
    data = pathlib.Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, e in header.items():
        lo, hi = e["data_offsets"]
        arr = np.frombuffer(data[base + lo:base + hi], dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
        tensors[name] = torch.from_numpy(arr.copy())
    return tensors, meta


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        arr = t.detach().cpu().contiguous().numpy()
        raw = arr.tobytes()
        header[name] = {"dtype": CODES[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header).encode()
    head += b" " * ((8 - len(head) % 8) % 8)
    pathlib.Path(path).write_bytes(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def main():
    for mod in sorted(pathlib.Path(__file__).resolve().parent.joinpath("oracle_ops").glob("*.py")):
        if mod.stem != "__init__" and mod.stem != "registry":
            importlib.import_module(f"oracle_ops.{mod.stem}")
    torch.manual_seed(0)
    tensors, meta = read_safetensors(sys.argv[1])
    cases = json.loads(meta["cases"])
    results = {}
    for c, case in enumerate(cases):
        inputs = []
        for i in range(case["n_inputs"]):
            t = tensors.get(f"c{c}.in{i}")
            needs = case.get("grad_inputs")
            if t is not None and t.is_floating_point() and (needs is None or needs[i]):
                t.requires_grad_(True)
            inputs.append(t)
        fn = registry.OPS.get(case["op"])
        if fn is None:
            raise SystemExit(f"torch_oracle: unknown op '{case['op']}'")
        outputs = fn(inputs, case["params"])
        if not isinstance(outputs, (tuple, list)):
            outputs = (outputs,)
        ng = case["n_grad_outputs"]
        if ng:
            grads = [tensors[f"c{c}.gout{k}"] for k in range(ng)]
            torch.autograd.backward(list(outputs[:ng]), grads)
        for k, o in enumerate(outputs):
            results[f"c{c}.out{k}"] = o
        for i, t in enumerate(inputs):
            if t is not None and t.grad is not None:
                results[f"c{c}.gin{i}"] = t.grad
    write_safetensors(sys.argv[2], results)


if __name__ == "__main__":
    main()
