"""Reference optimizers, LR schedule, gradient clipping and the nn modules built on them
(torch.optim / torch.nn, CPU, single-tensor code paths)."""
import torch
from torch.nn.utils import stateless

from .registry import op


def _make_optimizer(kind, params, hp):
    if kind == "sgd":
        return torch.optim.SGD(params, lr=hp["lr"], momentum=hp["momentum"],
                               dampening=hp["dampening"], weight_decay=hp["weight_decay"],
                               nesterov=hp["nesterov"], foreach=False)
    if kind == "adam":
        return torch.optim.Adam(params, lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]),
                                eps=hp["eps"], weight_decay=hp["weight_decay"], foreach=False)
    if kind == "asgd":
        return torch.optim.ASGD(params, lr=hp["lr"], lambd=hp["lambd"], alpha=hp["alpha"],
                                t0=hp["t0"], weight_decay=hp["weight_decay"], foreach=False)
    raise SystemExit(f"optim oracle: unknown optimizer '{kind}'")


@op("optimizer_run")
def _optimizer_run(x, p):
    """inputs: p0_0, grads_0 [steps, ...], p0_1, grads_1, ...; params["skip"] lists
    [param, step] pairs where that parameter has no gradient; params["lrs"], when given, is the lr
    of each step. Returns the final parameters, then every parameter's state tensors
    (momentum_buffer; exp_avg and exp_avg_sq; or ax)."""
    n = len(x) // 2
    params = [x[2 * j].detach().clone().requires_grad_(True) for j in range(n)]
    grads = [x[2 * j + 1].detach() for j in range(n)]
    opt = _make_optimizer(p["optimizer"], params, p["hyper"])
    skip = {tuple(s) for s in p.get("skip", [])}
    for k in range(p["steps"]):
        if "lrs" in p:
            opt.param_groups[0]["lr"] = p["lrs"][k]
        for j, q in enumerate(params):
            q.grad = None if (j, k) in skip else grads[j][k].clone()
        opt.step()
    out = [q.detach() for q in params]
    names = {"sgd": ["momentum_buffer"], "adam": ["exp_avg", "exp_avg_sq"],
             "asgd": ["ax"]}[p["optimizer"]]
    for q in params:
        for name in names:
            out.append(opt.state[q][name].detach())
    return tuple(out)


@op("cosine_schedule")
def _cosine_schedule(x, p):
    """The lr after construction and after each of `steps` scheduler steps, as float64."""
    dummy = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([dummy], lr=p["base_lr"])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=p["T_max"],
                                                       eta_min=p["eta_min"])
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(p["steps"]):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    return torch.tensor(lrs, dtype=torch.float64)


@op("clip_grad_norm")
def _clip_grad_norm(x, p):
    """inputs: gradients. Returns the total norm (float64 [1]) and the clipped gradients."""
    params = [torch.zeros_like(g, requires_grad=True) for g in x]
    for q, g in zip(params, x):
        q.grad = g.detach().clone()
    norm = torch.nn.utils.clip_grad_norm_(params, p["max_norm"])
    return (norm.detach().reshape(1).double(),) + tuple(q.grad for q in params)


@op("lstm_cell")
def _lstm_cell(x, p):
    """inputs: x, h, c, weight_ih, weight_hh, bias_ih, bias_hh, run through torch.nn.LSTMCell
    with those tensors as its parameters. Returns (h', c'), or (c', h') when p["first"] == "c"."""
    inp, h, c = x[0], x[1], x[2]
    cell = torch.nn.LSTMCell(inp.shape[1], h.shape[1]).to(inp.dtype)
    weights = dict(zip(["weight_ih", "weight_hh", "bias_ih", "bias_hh"], x[3:]))
    h2, c2 = stateless.functional_call(cell, weights, (inp, (h, c)))
    return (c2, h2) if p.get("first") == "c" else (h2, c2)


@op("linear_module")
def _linear_module(x, p):
    """inputs: x, weight[, bias] through torch.nn.Linear with those tensors as its parameters."""
    lin = torch.nn.Linear(x[1].shape[1], x[1].shape[0], bias=len(x) > 2).to(x[0].dtype)
    weights = {"weight": x[1]}
    if len(x) > 2:
        weights["bias"] = x[2]
    return stateless.functional_call(lin, weights, (x[0],))
