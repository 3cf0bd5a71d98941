#!/usr/bin/env python3
"""PyTorch peer for `bench --suite darts`: a DARTS supernet of its own (NCHW nn.Modules, written the
way PyTorch users write it) and the same search step (architect step with Adam on the alphas, then
an SGD step on the weights with clipping), timed like bench times its own: warm-up, then the median.
On CUDA it also reports peak memory and, through the profiler, kernel launches per step."""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

try:
    from torch.func import functional_call
except ImportError:  # torch 1.13
    from torch.nn.utils.stateless import functional_call

PRIMITIVES = ["none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3",
              "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"]


class FactorizedReduce(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.c1 = nn.Conv2d(c_in, c_out // 2, 1, 2, bias=False)
        self.c2 = nn.Conv2d(c_in, c_out // 2, 1, 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=False)

    def forward(self, x):
        x = F.relu(x)
        return self.bn(torch.cat([self.c1(x), self.c2(x[:, :, 1:, 1:])], 1))


def relu_conv_bn(c_in, c_out):
    return nn.Sequential(nn.ReLU(), nn.Conv2d(c_in, c_out, 1, bias=False),
                         nn.BatchNorm2d(c_out, affine=False))


def dw_pw(c, k, stride, dil):
    pad = dil * (k - 1) // 2
    return [nn.ReLU(), nn.Conv2d(c, c, k, stride, pad, dil, groups=c, bias=False),
            nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c, affine=False)]


class Zero(nn.Module):
    def __init__(self, stride):
        super().__init__()
        self.stride = stride

    def forward(self, x):
        return x[:, :, ::self.stride, ::self.stride].mul(0.0)


def make_op(name, c, stride):
    if name == "none":
        return Zero(stride)
    if name == "max_pool_3x3":
        return nn.Sequential(nn.MaxPool2d(3, stride, 1), nn.BatchNorm2d(c, affine=False))
    if name == "avg_pool_3x3":
        return nn.Sequential(nn.AvgPool2d(3, stride, 1, count_include_pad=False),
                             nn.BatchNorm2d(c, affine=False))
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(c, c)
    k = int(name[-1])
    if name.startswith("sep"):
        return nn.Sequential(*dw_pw(c, k, stride, 1), *dw_pw(c, k, 1, 1))
    return nn.Sequential(*dw_pw(c, k, stride, 2))


class MixedOp(nn.Module):
    def __init__(self, c, stride):
        super().__init__()
        self.ops = nn.ModuleList(make_op(p, c, stride) for p in PRIMITIVES)

    def forward(self, x, w):
        return sum(wi * op(x) for wi, op in zip(w, self.ops))


class Cell(nn.Module):
    def __init__(self, nodes, cpp, cp, c, reduction, reduction_prev):
        super().__init__()
        self.reduction, self.nodes = reduction, nodes
        self.pre0 = FactorizedReduce(cpp, c) if reduction_prev else relu_conv_bn(cpp, c)
        self.pre1 = relu_conv_bn(cp, c)
        self.edges = nn.ModuleList(MixedOp(c, 2 if reduction and j < 2 else 1)
                                   for i in range(nodes) for j in range(i + 2))

    def forward(self, s0, s1, weights):
        states, e = [self.pre0(s0), self.pre1(s1)], 0
        for i in range(self.nodes):
            states.append(sum(self.edges[e + j](h, weights[e + j]) for j, h in enumerate(states)))
            e += len(states) - 1
        return torch.cat(states[2:], 1)


class Network(nn.Module):
    def __init__(self, c, cells, in_ch, classes=10, nodes=4):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_ch, 3 * c, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(3 * c))
        cpp, cp, cur, red_prev = 3 * c, 3 * c, c, False
        self.cells = nn.ModuleList()
        for i in range(cells):
            red = i in (cells // 3, 2 * cells // 3)
            cur = cur * 2 if red else cur
            self.cells.append(Cell(nodes, cpp, cp, cur, red, red_prev))
            red_prev, cpp, cp = red, cp, nodes * cur
        self.classifier = nn.Linear(cp, classes)
        edges = sum(i + 2 for i in range(nodes))
        self.alpha_normal = nn.Parameter(1e-3 * torch.randn(edges, len(PRIMITIVES)))
        self.alpha_reduce = nn.Parameter(1e-3 * torch.randn(edges, len(PRIMITIVES)))

    def weights(self):
        return [p for n, p in self.named_parameters() if not n.startswith("alpha")]

    def alphas(self):
        return [self.alpha_normal, self.alpha_reduce]

    def forward(self, x):
        wn, wr = F.softmax(self.alpha_normal, -1), F.softmax(self.alpha_reduce, -1)
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1, wr if cell.reduction else wn)
        return self.classifier(s1.mean((2, 3)))


class Search:
    def __init__(self, case, device):
        self.net = Network(case["channels"], case["cells"], case["in_channels"]).to(device)
        self.order = case["order"]
        self.w_opt = torch.optim.SGD(self.net.weights(), 0.025, momentum=0.9, weight_decay=3e-4)
        self.a_opt = torch.optim.Adam(self.net.alphas(), 3e-4, betas=(0.5, 0.999),
                                      weight_decay=1e-3)
        n, s, c = case["batch"], case["size"], case["in_channels"]
        self.batches = [(torch.randn(n, c, s, s, device=device), torch.randint(0, 10, (n,), device=device),
                         torch.randn(n, c, s, s, device=device), torch.randint(0, 10, (n,), device=device))
                        for _ in range(2)]
        self.i = 0

    def loss(self, x, y, params=None):
        logits = self.net(x) if params is None else functional_call(self.net, params, (x,))
        return F.cross_entropy(logits, y)

    def unrolled_alpha_grad(self, xt, yt, xv, yv, xi):
        names = [n for n, _ in self.net.named_parameters() if not n.startswith("alpha")]
        W = self.net.weights()
        g = torch.autograd.grad(self.loss(xt, yt), W)
        new = {}
        for n, w, gw in zip(names, W, g):
            buf = self.w_opt.state.get(w, {}).get("momentum_buffer")
            d = gw + 3e-4 * w.detach() + (0.9 * buf if buf is not None else 0)
            new[n] = (w.detach() - xi * d).requires_grad_(True)
        new["alpha_normal"], new["alpha_reduce"] = self.net.alpha_normal, self.net.alpha_reduce
        grads = torch.autograd.grad(self.loss(xv, yv, new), self.net.alphas() + [new[n] for n in names])
        direct, v = grads[:2], grads[2:]
        r = 0.01 / torch.cat([t.reshape(-1) for t in v]).norm()
        with torch.no_grad():
            for w, t in zip(W, v):
                w.add_(t, alpha=r)
        gp = torch.autograd.grad(self.loss(xt, yt), self.net.alphas())
        with torch.no_grad():
            for w, t in zip(W, v):
                w.sub_(t, alpha=2 * r)
        gm = torch.autograd.grad(self.loss(xt, yt), self.net.alphas())
        with torch.no_grad():
            for w, t in zip(W, v):
                w.add_(t, alpha=r)
        return [d - xi * (a - b) / (2 * r) for d, a, b in zip(direct, gp, gm)]

    def step(self):
        xt, yt, xv, yv = self.batches[self.i % len(self.batches)]
        self.i += 1
        self.a_opt.zero_grad()
        if self.order == 1:
            self.loss(xv, yv).backward(inputs=self.net.alphas())
        else:
            for a, g in zip(self.net.alphas(), self.unrolled_alpha_grad(xt, yt, xv, yv, 0.025)):
                a.grad = g
        self.a_opt.step()
        self.w_opt.zero_grad()
        loss = self.loss(xt, yt)
        loss.backward(inputs=self.net.weights())
        nn.utils.clip_grad_norm_(self.net.weights(), 5.0)
        self.w_opt.step()
        return loss.item()


def count_launches(search):
    try:
        from torch.profiler import ProfilerActivity, profile
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            search.step()
            torch.cuda.synchronize()
        return sum(1 for e in prof.events() if str(getattr(e, "device_type", "")).endswith("CUDA"))
    except Exception:  # noqa: BLE001 - the count is informative only
        return None


def main():
    req = json.load(open(sys.argv[1]))
    torch.set_num_threads(req["threads"])
    device = "cuda" if req["device"].startswith("cuda") else "cpu"
    torch.manual_seed(0)
    results = []
    for case in req["cases"]:
        search = Search(case, device)
        for _ in range(req["warmup"]):
            search.step()
        out = {}
        if device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            search.step()
            out["peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
            out["launches"] = count_launches(search)
        samples = []
        for _ in range(req["iterations"]):
            t0 = time.perf_counter()
            search.step()  # loss.item() synchronises
            samples.append((time.perf_counter() - t0) * 1e3)
        out["median_ms"] = statistics.median(samples)
        results.append(out)
        print(f"  torch {case} {out['median_ms']:.1f} ms", file=sys.stderr)
    json.dump({"results": results, "torch": torch.__version__}, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
