"""Reference word LM around DARTS's recurrent cell (a tied embedding and decoder), written from the
paper's equations (Liu et al. 2019, sec. 3 and appendix) in plain torch ops."""
import torch
import torch.nn.functional as F

from .registry import op

_ACTS = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid,
         "identity": lambda t: t}


@op("darts_rnn_lm")
def _darts_rnn_lm(x, p):
    """inputs: embedding [V, H], decoder bias [V], W_0 [2H, H + H], W_1..W_n [2H, H], tokens and
    targets (int64 [T, B]). params: "recurrent" ([op, input] per node), "concat". The state starts
    at zero; each W's first H rows are the gate, the next H the candidate. Returns the mean
    cross-entropy as a [1] tensor."""
    emb, bias = x[0], x[1]
    weights = x[2:-2]
    tokens, targets = x[-2].long(), x[-1].long()
    hidden = emb.shape[1]
    steps, batch = tokens.shape
    h = torch.zeros(batch, hidden, dtype=emb.dtype)
    outputs = []
    for t in range(steps):
        gate, cand = torch.split(torch.cat([emb[tokens[t]], h], 1) @ weights[0].t(), hidden, 1)
        states = [h + torch.sigmoid(gate) * (torch.tanh(cand) - h)]
        for i, (name, j) in enumerate(p["recurrent"]):
            gate, cand = torch.split(states[j] @ weights[i + 1].t(), hidden, 1)
            states.append(states[j] + torch.sigmoid(gate) * (_ACTS[name](cand) - states[j]))
        h = torch.stack([states[k] for k in p["concat"]]).mean(0)
        outputs.append(h)
    logits = torch.stack(outputs).reshape(steps * batch, hidden) @ emb.t() + bias
    return (F.cross_entropy(logits, targets.reshape(-1)).reshape(1),)


def _gate_candidate(s, w, hidden):
    gate, cand = torch.split(s @ w.t(), hidden, -1)
    return torch.sigmoid(gate), cand


@op("darts_rnn_cell")
def _darts_rnn_cell(x, p):
    """One step of DARTS's recurrent cell in training, from rnn/model.py's and model_search.py's
    equations: inputs x [B, I] (already dropped), h [B, H], h_mask [B, H], W_0 [2H, I + H],
    W_1..W_n [2H, H], and with params "search": true the alphas [edges, 5] (none, tanh, relu,
    sigmoid, identity) last. Without "search", params "recurrent" and "concat" give the genotype.
    The mask drops h where it enters W_0 and every state where it enters its node's W_i; the
    highways use the undropped states. The search cell batch-normalises s_0 and every node with
    batch statistics and no affine part, and averages its nodes."""
    search = p.get("search", False)
    xt, h, mask = x[0], x[1], x[2]
    weights = x[3:-1] if search else x[3:]
    hidden = h.shape[1]
    gate, cand = _gate_candidate(torch.cat([xt, h * mask], 1), weights[0], hidden)
    s0 = h + gate * (torch.tanh(cand) - h)
    if not search:
        states = [s0]
        for i, (name, j) in enumerate(p["recurrent"]):
            gate, cand = _gate_candidate(states[j] * mask, weights[i + 1], hidden)
            states.append(states[j] + gate * (_ACTS[name](cand) - states[j]))
        return (torch.stack([states[k] for k in p["concat"]]).mean(0),)

    def bn(t):
        return F.batch_norm(t, None, None, training=True, eps=1e-5)

    probs = torch.softmax(x[-1], -1)
    names = ["tanh", "relu", "sigmoid", "identity"]
    states = [bn(s0)]
    edge = 0
    for i in range(1, len(weights)):
        node = torch.zeros_like(s0)
        for s in states:
            gate, cand = _gate_candidate(s * mask, weights[i], hidden)
            for k, name in enumerate(names):
                node = node + probs[edge, k + 1] * (s + gate * (_ACTS[name](cand) - s))
            edge += 1
        states.append(bn(node))
    return (torch.stack(states[1:]).mean(0),)
