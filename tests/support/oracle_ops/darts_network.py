"""An independent PyTorch build of the DARTS evaluation network (NCHW), written from the facts in
shared/reference/nas-facts.md, used to cross-check parameter counts."""
import ast

import torch
import torch.nn as nn

from .registry import op



class FactReduce(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.a = nn.Conv2d(c_in, c_out // 2, 1, 2, bias=False)
        self.b = nn.Conv2d(c_in, c_out // 2, 1, 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)


def candidate(name, c, stride):
    layers = []
    if name in ("max_pool_3x3", "avg_pool_3x3", "none"):
        return nn.Identity()
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactReduce(c, c)
    if name.startswith("sep_conv"):
        k = int(name[-1])
        for s in (stride, 1):
            layers += [nn.Conv2d(c, c, k, s, k // 2, groups=c, bias=False), nn.Conv2d(c, c, 1, bias=False),
                       nn.BatchNorm2d(c)]
    elif name.startswith("dil_conv"):
        k = int(name[-1])
        layers += [nn.Conv2d(c, c, k, stride, k - 1, dilation=2, groups=c, bias=False),
                   nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c)]
    elif name == "conv_7x1_1x7":
        layers += [nn.Conv2d(c, c, (1, 7), (1, stride), (0, 3), bias=False),
                   nn.Conv2d(c, c, (7, 1), (stride, 1), (3, 0), bias=False), nn.BatchNorm2d(c)]
    else:
        raise ValueError(name)
    return nn.Sequential(*layers)


def preprocess(c_in, c_out):
    return nn.Sequential(nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out))


class Cell(nn.Module):
    def __init__(self, edges, concat, cpp, cp, c, reduction, reduction_prev):
        super().__init__()
        self.pre0 = FactReduce(cpp, c) if reduction_prev else preprocess(cpp, c)
        self.pre1 = preprocess(cp, c)
        self.ops = nn.ModuleList(candidate(n, c, 2 if reduction and i < 2 else 1) for n, i in edges)
        self.multiplier = len(concat)


class Network(nn.Module):
    def __init__(self, genotype, c, layers, classes, in_ch):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_ch, 3 * c, 3, padding=1, bias=False), nn.BatchNorm2d(3 * c))
        cpp, cp, cur = 3 * c, 3 * c, c
        self.cells = nn.ModuleList()
        red_prev = False
        for i in range(layers):
            red = i in (layers // 3, 2 * layers // 3)
            if red:
                cur *= 2
            edges, concat = (genotype["reduce"], genotype["reduce_concat"]) if red else (genotype["normal"], genotype["normal_concat"])
            cell = Cell(edges, concat, cpp, cp, cur, red, red_prev)
            self.cells.append(cell)
            red_prev = red
            cpp, cp = cp, cell.multiplier * cur
        self.classifier = nn.Linear(cp, classes)


def parse_genotype(text):
    tree = ast.parse(text.strip(), mode="eval").body
    fields = {kw.arg: ast.literal_eval(kw.value) if not isinstance(kw.value, ast.Call) else
              list(range(*[ast.literal_eval(a) for a in kw.value.args])) for kw in tree.keywords}
    return fields


@op("darts_eval_param_count")
def _param_count(x, p):
    net = Network(parse_genotype(p["genotype"]), p["C"], p["layers"], p["classes"], p["in_channels"])
    return torch.tensor([sum(t.numel() for t in net.parameters())], dtype=torch.int64)
