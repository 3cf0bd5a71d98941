"""An independent PyTorch DARTS supernet (NCHW, functional) and search steps, written from the DARTS
paper's description and shared/reference/nas-facts.md, for the search parity test. Weights arrive
as one flat list in the order the C++ supernet registers them; a forward pass visits every weight
exactly once in that order, so each op simply takes the next one."""
import torch
import torch.nn.functional as F

from .registry import op, to_nchw, weight_to_oihw

OPS = ["none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5",
       "dil_conv_3x3", "dil_conv_5x5"]


def bn(x, weight=None, bias=None):
    return F.batch_norm(x, None, None, weight, bias, training=True, momentum=0.1, eps=1e-5)


class Net:
    def __init__(self, p):
        self.nodes, self.cells = p["nodes"], p["cells"]
        self.ops = p.get("ops", OPS)

    def conv(self, x, w, stride=1, pad=0, dil=1, groups=1):
        return F.conv2d(x, w, None, stride, pad, dil, groups)

    def fact_reduce(self, x, it):
        r = F.relu(x)
        a = self.conv(r, next(it), 2)
        b = self.conv(r[:, :, 1:, 1:], next(it), 2)
        return bn(torch.cat([a, b], 1))

    def relu_conv_bn(self, x, it):
        return bn(self.conv(F.relu(x), next(it)))

    def candidate(self, name, x, stride, it):
        c = x.shape[1]
        if name in ("max_pool_3x3", "avg_pool_3x3"):
            pool = F.max_pool2d(x, 3, stride, 1) if name[0] == "m" else F.avg_pool2d(
                x, 3, stride, 1, count_include_pad=False)
            return bn(pool)
        if name == "skip_connect":
            return x if stride == 1 else self.fact_reduce(x, it)
        k = int(name[-1])
        if name.startswith("sep_conv"):
            h = x
            for s in (stride, 1):
                h = self.conv(F.relu(h), next(it), s, k // 2, 1, c)
                h = bn(self.conv(h, next(it)))
            return h
        if name.startswith("dil_conv"):
            h = self.conv(F.relu(x), next(it), stride, k - 1, 2, c)
            return bn(self.conv(h, next(it)))
        raise ValueError(name)

    def cell(self, s0, s1, weights, reduction, reduction_prev, it):
        states = [self.fact_reduce(s0, it) if reduction_prev else self.relu_conv_bn(s0, it),
                  self.relu_conv_bn(s1, it)]
        e = 0
        for node in range(self.nodes):
            total = 0
            for j in range(node + 2):
                stride = 2 if reduction and j < 2 else 1
                for k, name in enumerate(self.ops):
                    if name != "none":
                        total = total + weights[e, k] * self.candidate(name, states[j], stride, it)
                e += 1
            states.append(total)
        return torch.cat(states[2:], 1)

    def forward(self, x, W, alpha_normal, alpha_reduce):
        it = iter(W)
        s = bn(self.conv(x, next(it), 1, 1), next(it), next(it))
        s0 = s1 = s
        wn, wr = F.softmax(alpha_normal, -1), F.softmax(alpha_reduce, -1)
        reduction_prev = False
        for i in range(self.cells):
            reduction = i in (self.cells // 3, 2 * self.cells // 3)
            s0, s1 = s1, self.cell(s0, s1, wr if reduction else wn, reduction, reduction_prev, it)
            reduction_prev = reduction
        logits = F.linear(s1.mean((2, 3)), next(it), next(it))
        assert next(it, None) is None, "unused weights: the weight order does not match"
        return logits


def to_torch_layout(w):
    return weight_to_oihw(w) if w.dim() == 4 else w


def to_our_layout(w):
    return w.permute(0, 2, 3, 1) if w.dim() == 4 else w


@op("darts_search_steps")
def _darts_search_steps(x, p):
    """Runs p["steps"] DARTS search steps (architect step, then weight step) and returns
    (train and val losses [steps, 2], the alpha gradients of every step [steps, 2, E, K],
    the weight gradients of the first weight step..., the final weights..., final alphas (2))."""
    xt, yt, xv, yv, a_n, a_r = x[:6]
    net = Net(p)
    W = [to_torch_layout(w.detach()).clone().requires_grad_(True) for w in x[6:]]
    A = [a_n.detach().clone().requires_grad_(True), a_r.detach().clone().requires_grad_(True)]
    w_opt = torch.optim.SGD(W, lr=p["lr"], momentum=p["momentum"], weight_decay=p["weight_decay"])
    a_opt = torch.optim.Adam(A, lr=p["arch_lr"], betas=(0.5, 0.999), weight_decay=p["arch_wd"])
    xi = p["lr"]

    def loss(images, labels, weights, alphas):
        return F.cross_entropy(net.forward(to_nchw(images), weights, *alphas), labels)

    losses, alpha_grads, first_weight_grads = [], [], None
    for s in range(p["steps"]):
        # Architect.
        if p["order"] == 1:
            val = loss(xv[s], yv[s], W, A)
            ga = torch.autograd.grad(val, A)
        else:
            g = torch.autograd.grad(loss(xt[s], yt[s], W, A), W)
            unrolled = []
            for w, gw in zip(W, g):
                d = gw + p["weight_decay"] * w.detach()
                buf = w_opt.state.get(w, {}).get("momentum_buffer")
                if buf is not None:
                    d = d + p["momentum"] * buf
                unrolled.append((w.detach() - xi * d).requires_grad_(True))
            val = loss(xv[s], yv[s], unrolled, A)
            grads = torch.autograd.grad(val, A + unrolled)
            direct, v = grads[:2], grads[2:]
            r = 0.01 / torch.cat([t.reshape(-1) for t in v]).norm()
            plus = torch.autograd.grad(
                loss(xt[s], yt[s], [w.detach() + r * t for w, t in zip(W, v)], A), A)
            minus = torch.autograd.grad(
                loss(xt[s], yt[s], [w.detach() - r * t for w, t in zip(W, v)], A), A)
            ga = [d - xi * (gp - gm) / (2 * r) for d, gp, gm in zip(direct, plus, minus)]
        alpha_grads.append(torch.stack([t.detach() for t in ga]))
        a_opt.zero_grad()
        for a, gr in zip(A, ga):
            a.grad = gr.detach().clone()
        a_opt.step()
        # Weights.
        w_opt.zero_grad()
        train = loss(xt[s], yt[s], W, [a.detach() for a in A])
        train.backward()
        torch.nn.utils.clip_grad_norm_(W, p["grad_clip"])
        if first_weight_grads is None:
            first_weight_grads = [to_our_layout(w.grad.detach().clone()) for w in W]
        w_opt.step()
        losses.append(torch.stack([train.detach(), val.detach()]))
    final = [to_our_layout(w.detach()).contiguous() for w in W]
    return (torch.stack(losses), torch.stack(alpha_grads), *first_weight_grads, *final,
            A[0].detach(), A[1].detach())
