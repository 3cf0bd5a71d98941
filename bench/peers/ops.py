#!/usr/bin/env python3
"""PyTorch peer for `bench`'s op suite: rebuilds each case in torch (NCHW, torch's native layout;
see torch_ops.py) and times it the way bench times its own (warm-up, then the median of
repetitions)."""
import json
import sys
import time

import torch

from torch_ops import build_inputs, forward


def build(case, device):
    """The timed call: forward only, or forward + backward from a fixed output gradient."""
    fn = forward(case)
    inputs, wants = build_inputs(case, device)
    bwd = case["mode"] == "fwdbwd"
    leaves = [t for t, w in zip(inputs, wants) if w and bwd]
    for t in leaves:
        t.requires_grad_(True)
    if not bwd:
        def run():
            with torch.no_grad():
                fn(inputs)
        return run
    with torch.no_grad():
        gy = torch.rand_like(fn(inputs)) * 2 - 1

    def run_bwd():
        for t in leaves:
            t.grad = None
        fn(inputs).backward(gy)
    return run_bwd


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_case(run, req, device):
    for _ in range(req["warmup"]):
        run()
    sync(device)
    samples, start = [], time.perf_counter()
    while len(samples) < req["iterations"] or (time.perf_counter() - start < req["min_seconds"] and len(samples) < 200):
        if device.startswith("cuda"):
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record()
            run()
            b.record()
            b.synchronize()
            samples.append(a.elapsed_time(b))
        else:
            t0 = time.perf_counter()
            run()
            samples.append((time.perf_counter() - t0) * 1e3)
    samples.sort()
    return samples[len(samples) // 2]


def main():
    req = json.load(open(sys.argv[1]))
    torch.set_num_threads(req["threads"])
    device = req["device"]
    results = []
    for case in req["cases"]:
        results.append({"median_ms": time_case(build(case, device), req, device)})
    json.dump({"torch": torch.__version__, "results": results}, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
