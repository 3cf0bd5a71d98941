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
