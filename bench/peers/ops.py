#!/usr/bin/env python3
"""PyTorch peer for `bench`'s op suite: rebuilds each case in torch (NCHW, torch's native layout)
and times it the way bench times its own (warm-up, then the median of repetitions)."""
import json
import sys
import time

import torch
import torch.nn.functional as F


def build(case, device):
    n, h, w, c = case["x"]
    bwd = case["mode"] == "fwdbwd"
    x = torch.rand(n, c, h, w, device=device) * 2 - 1
    x.requires_grad_(bwd)
    op = case["op"]
    params = []
    if op == "conv2d":
        k, groups, out = case["k"], case["groups"], case["out"]
        wt = torch.rand(out, c // groups, k, k, device=device) * 2 - 1
        wt.requires_grad_(bwd)
        params = [wt]
        fn = lambda: F.conv2d(x, wt, None, case["stride"], case["pad"], case["dil"], groups)
    elif op == "batch_norm":
        fn = lambda: F.batch_norm(x, None, None, training=True)
    elif op == "max_pool2d":
        fn = lambda: F.max_pool2d(x, 3, case["stride"], 1)
    elif op == "avg_pool2d":
        fn = lambda: F.avg_pool2d(x, 3, case["stride"], 1, count_include_pad=False)
    elif op == "relu":
        fn = lambda: F.relu(x)
    elif op == "weighted_sum":
        wts = torch.rand(case["n"], device=device)
        wts.requires_grad_(bwd)
        params = [wts]
        fn = lambda: sum(wts[i] * x for i in range(case["n"]))
    else:
        raise SystemExit(f"ops.py: unknown op {op}")
    if not bwd:
        def run():
            with torch.no_grad():
                fn()
        return run
    gy = torch.rand_like(fn()) * 2 - 1

    def run_bwd():
        x.grad = None
        for p in params:
            p.grad = None
        fn().backward(gy)
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
