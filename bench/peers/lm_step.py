#!/usr/bin/env python3
"""PyTorch peer for `bench --suite lm`: a word-level LM (tied embedding and decoder around a
recurrent cell) and the truncated-BPTT training step nas_train --task lm runs (DARTS's rnn/train.py:
detached state, embedding/locked/x/h dropout, cross-entropy + TAR, clipping, plain SGD with weight
decay), timed like bench times its own: warm-up, then the median. The DARTS_V2 cell and DARTS's
search relaxation ("search": every earlier state through every candidate, mixed by softmax(alpha),
batch-normalised) are written here from the DARTS paper's equations; "LSTM" is PyTorch's nn.LSTM in
the same LM (no x/h masks, which an nn.LSTM cannot take). Other cells are not modelled: their
results are null."""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# DARTS_V2's recurrent genotype: node i (1..8) applies the activation to W_i s_j for its (op, j);
# the cell's output is the mean of nodes 1..8.
DARTS_V2 = [("sigmoid", 0), ("relu", 1), ("relu", 1), ("identity", 1), ("tanh", 2),
            ("sigmoid", 5), ("tanh", 3), ("relu", 5)]
ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid,
               "identity": lambda t: t}
INIT_RANGE = 0.04  # the DARTS cell's weights: U(-0.04, 0.04), no biases


def keep_mask(shape, p, like):
    """A Bernoulli keep mask scaled by 1 / (1 - p) (inverted dropout), or None when p is 0."""
    if p <= 0:
        return None
    return like.new_empty(shape).bernoulli_(1 - p).div_(1 - p)


def masked(t, mask):
    return t if mask is None else t * mask


class DartsCell(nn.Module):
    """s0 = h + c0 * (tanh(W0_h [x; h]) - h), c0 = sigmoid(W0_c [x; h]) (x and h masked where they
    enter W0, the highway term reads h unmasked); node i reading s_j:
    s_i = s_j + c * (act(W_i^h s_j) - s_j), c = sigmoid(W_i^c s_j) (s_j masked by the h mask where
    it enters W_i); h_t = mean(s_1..s_n)."""

    def __init__(self, ninp, nhid, genotype):
        super().__init__()
        self.nhid, self.genotype = nhid, genotype
        self.w0 = nn.Parameter(torch.empty(ninp + nhid, 2 * nhid).uniform_(-INIT_RANGE, INIT_RANGE))
        self.ws = nn.ParameterList(
            nn.Parameter(torch.empty(nhid, 2 * nhid).uniform_(-INIT_RANGE, INIT_RANGE))
            for _ in genotype)

    def step(self, x, h, x_mask, h_mask):
        gate, cand = torch.cat([masked(x, x_mask), masked(h, h_mask)], 1).mm(self.w0).chunk(2, 1)
        states = [h + torch.sigmoid(gate) * (torch.tanh(cand) - h)]
        for (act, j), w in zip(self.genotype, self.ws):
            s = states[j]
            gate, cand = masked(s, h_mask).mm(w).chunk(2, 1)
            states.append(s + torch.sigmoid(gate) * (ACTIVATIONS[act](cand) - s))
        return torch.stack(states[1:]).mean(0)

    def forward(self, xs, h, x_mask, h_mask):
        outputs = []
        for x in xs:  # xs: [steps, batch, ninp]
            h = self.step(x, h, x_mask, h_mask)
            outputs.append(h)
        return torch.stack(outputs), h


class SearchCell(DartsCell):
    """The relaxation: s0 as above, then node i maps the stack of s_0..s_{i-1} (masked) through W_i
    in one product and adds sum_j sum_op softmax(alpha_{j,i})_op (s_j + c (op(h) - s_j)) over the
    four non-none ops; s0 and every node go through one batch norm without affine parameters."""

    def __init__(self, ninp, nhid, steps=8):
        super().__init__(ninp, nhid, [("identity", 0)] * steps)
        self.bn = nn.BatchNorm1d(nhid, affine=False)
        edges = steps * (steps + 1) // 2
        # Architecture parameters: the weight step's backward reaches them, its optimizer does not.
        self.alphas = nn.Parameter(1e-3 * torch.randn(edges, 5))

    def step(self, x, h, x_mask, h_mask):
        gate, cand = torch.cat([masked(x, x_mask), masked(h, h_mask)], 1).mm(self.w0).chunk(2, 1)
        s0 = self.bn(h + torch.sigmoid(gate) * (torch.tanh(cand) - h))
        probs = torch.softmax(self.alphas, -1)
        states, offset = s0.unsqueeze(0), 0
        for i, w in enumerate(self.ws):
            n = i + 1
            gate, cand = masked(states, h_mask).reshape(-1, self.nhid).mm(w).reshape(
                n, -1, 2 * self.nhid).chunk(2, -1)
            gate = torch.sigmoid(gate)
            node = 0
            for k, act in enumerate(("tanh", "relu", "sigmoid", "identity")):
                weight = probs[offset:offset + n, k + 1].reshape(n, 1, 1)
                node = node + (weight * (states + gate * (ACTIVATIONS[act](cand) - states))).sum(0)
            states = torch.cat([states, self.bn(node).unsqueeze(0)], 0)
            offset += n
        return states[1:].mean(0)


class LstmCell(nn.Module):
    """PyTorch's one-layer nn.LSTM behind the same interface (the x/h masks do not apply)."""

    def __init__(self, ninp, nhid):
        super().__init__()
        self.lstm = nn.LSTM(ninp, nhid, 1)

    def forward(self, xs, state, x_mask, h_mask):
        out, state = self.lstm(xs, state)
        return out, state


class Lm(nn.Module):
    """Tied embedding/decoder (U(-0.1, 0.1) table, zero decoder bias), the cell over the window,
    embedding dropout (whole words), locked dropout on the embeddings and on the outputs."""

    def __init__(self, case):
        super().__init__()
        v, h = case["vocab"], case["hidden"]
        self.hidden, self.lstm = h, case["cell"] == "LSTM"
        self.embedding = nn.Parameter(torch.empty(v, h).uniform_(-0.1, 0.1))
        self.bias = nn.Parameter(torch.zeros(v))
        if self.lstm:
            self.cell = LstmCell(h, h)
        elif case["cell"] == "search":
            self.cell = SearchCell(h, h)
        else:
            self.cell = DartsCell(h, h, DARTS_V2)
        self.drop = case["dropout"]

    def zero_state(self, batch):
        h = self.embedding.new_zeros(batch, self.hidden)
        return (h.unsqueeze(0), h.unsqueeze(0).clone()) if self.lstm else h

    def forward(self, tokens, state):
        d, batch = self.drop, tokens.size(1)
        e = self.embedding
        word_mask = keep_mask((e.size(0), 1), d["embedding"], e)
        x = F.embedding(tokens, masked(e, word_mask))
        x = masked(x, keep_mask((1, batch, self.hidden), d["input"], x))
        x_mask = None if self.lstm else keep_mask((batch, self.hidden), d["x"], x)
        h_mask = None if self.lstm else keep_mask((batch, self.hidden), d["h"], x)
        raw, state = self.cell(x, state, x_mask, h_mask)
        dropped = masked(raw, keep_mask((1, batch, self.hidden), d["output"], raw))
        logits = F.linear(dropped.reshape(-1, self.hidden), self.embedding, self.bias)
        return logits, state, raw, dropped


def detach(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


class Trainer:
    def __init__(self, case, device):
        self.case = case
        self.model = Lm(case).to(device)
        self.model.train()
        self.weights = [p for n, p in self.model.named_parameters() if not n.endswith("alphas")]
        self.opt = torch.optim.SGD(self.weights, case["lr"],
                                   weight_decay=case["weight_decay"])
        self.state = self.model.zero_state(case["batch"])
        # Two random windows, alternated (random ids: the cost does not depend on the words).
        self.windows = []
        for _ in range(2):
            t = torch.randint(0, case["vocab"], (case["bptt"] + 1, case["batch"]), device=device)
            self.windows.append((t[:-1].contiguous(), t[1:].contiguous()))
        self.i = 0

    def step(self):
        inputs, targets = self.windows[self.i % len(self.windows)]
        self.i += 1
        c = self.case
        self.state = detach(self.state)
        self.opt.zero_grad()
        logits, state, raw, dropped = self.model(inputs, self.state)
        loss = F.cross_entropy(logits, targets.reshape(-1))
        if c["alpha"] > 0:
            loss = loss + c["alpha"] * dropped.pow(2).mean()
        if c["beta"] > 0 and raw.size(0) > 1:
            loss = loss + c["beta"] * (raw[1:] - raw[:-1]).pow(2).mean()
        loss.backward()
        nn.utils.clip_grad_norm_(self.weights, c["clip"])
        self.opt.step()
        self.state = state


def main():
    req = json.load(open(sys.argv[1]))
    torch.set_num_threads(req["threads"])
    device = "cuda" if req["device"].startswith("cuda") else "cpu"
    torch.manual_seed(0)
    results = []
    for case in req["cases"]:
        if case["cell"] not in ("DARTS_V2", "LSTM", "search"):
            results.append({"median_ms": None})
            continue
        trainer = Trainer(case, device)
        for _ in range(req["warmup"]):
            trainer.step()
        samples = []
        for _ in range(req["iterations"]):
            if device == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            trainer.step()
            if device == "cuda":
                torch.cuda.synchronize()
            samples.append((time.perf_counter() - t0) * 1e3)
        results.append({"median_ms": statistics.median(samples)})
        print(f"  torch {case['cell']} {results[-1]['median_ms']:.1f} ms", file=sys.stderr)
    json.dump({"results": results, "torch": torch.__version__}, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
