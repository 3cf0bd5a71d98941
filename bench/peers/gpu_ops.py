#!/usr/bin/env python3
"""PyTorch peer for `bench --suite ops --device cuda`: rebuilds each case in torch (NCHW, torch's
native layout, see torch_ops.py; cudnn.benchmark on, TF32 off) and times it the way bench times
its own: CUDA events around one call, a device sleep queued first so the host's launch overhead stays out of the figure,
inputs rotated through copies totalling more than twice the L2, median of the repetitions."""
import json
import math
import statistics
import sys
import time

import torch

from torch_ops import build_inputs, forward


def make_runner(case, device):
    fn = forward(case)
    bwd = case["mode"] == "fwdbwd"
    first, wants = build_inputs(case, device)
    set_bytes = sum(t.numel() * t.element_size() for t in first if t is not None)
    gy0 = None
    if bwd:
        with torch.no_grad():
            gy0 = torch.rand_like(fn(first)) * 2 - 1
        set_bytes += gy0.numel() * gy0.element_size()
    sets = max(1, min(64, math.ceil(2 * case.get("l2_bytes", 50 << 20) / set_bytes)))
    inputs = [first] + [[None if t is None else t.clone() for t in first] for _ in range(sets - 1)]
    gys = [gy0.clone() if bwd else None for _ in range(sets)]
    if bwd:
        for s in inputs:
            for t, w in zip(s, wants):
                if w:
                    t.requires_grad_(True)

    def run(i):
        s = inputs[i % sets]
        if not bwd:
            with torch.no_grad():
                fn(s)
            return
        for t, w in zip(s, wants):
            if w:
                t.grad = None
        fn(s).backward(gys[i % sets])
    return run, sets


def sleep_cycles_per_us():
    """torch.cuda._sleep spins for clock cycles: calibrate them against CUDA events. Without it
    (a private API) the queue is not kept full and host overhead may show in the numbers: 0."""
    if not hasattr(torch.cuda, "_sleep"):
        print("gpu_ops.py: torch.cuda._sleep missing; timing without a busy-wait", file=sys.stderr)
        return 0.0
    cycles = 10_000_000
    torch.cuda._sleep(cycles)  # warm up
    a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    a.record()
    torch.cuda._sleep(cycles)
    b.record()
    b.synchronize()
    return cycles / (a.elapsed_time(b) * 1e3)


def time_case(run, req, cycles_per_us):
    host = []
    for i in range(max(req["warmup"], 3)):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        run(i)
        host.append((time.perf_counter() - t0) * 1e6)
    torch.cuda.synchronize()
    spin_us = min(max(2 * statistics.median(host) + 20, 20), 20000)
    events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
              for _ in range(req["iterations"])]
    for i, (a, b) in enumerate(events):
        if cycles_per_us > 0:
            torch.cuda._sleep(int(spin_us * cycles_per_us))
        a.record()
        run(i)
        b.record()
    torch.cuda.synchronize()
    samples = sorted(a.elapsed_time(b) for a, b in events)
    return samples[len(samples) // 2]


def main():
    req = json.load(open(sys.argv[1]))
    device = req["device"]
    if not device.startswith("cuda") or not torch.cuda.is_available():
        raise SystemExit("gpu_ops.py: needs a CUDA device")
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    cycles_per_us = sleep_cycles_per_us()
    results = []
    for case in req["cases"]:
        try:
            run, sets = make_runner(case, device)
            results.append({"median_ms": time_case(run, req, cycles_per_us), "sets": sets})
        except Exception as e:  # one broken case must not lose the others
            results.append({"median_ms": None, "error": str(e)})
        torch.cuda.empty_cache()
    json.dump({"torch": torch.__version__, "results": results}, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
