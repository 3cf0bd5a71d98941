"""Reference training run of the small CNN used by the engine-core composite parity test:
conv3x3 -> BN -> ReLU -> max pool -> global average pool -> linear, cross-entropy, SGD momentum."""
import torch
import torch.nn.functional as F

from .registry import op, to_nchw, weight_to_oihw


@op("small_cnn_train")
def _small_cnn_train(x, p):
    images, labels, conv_w, bn_w, bn_b, fc_w, fc_b = [t.detach().clone() for t in x]
    conv_w = weight_to_oihw(conv_w).contiguous().requires_grad_(True)
    params = [conv_w, bn_w.requires_grad_(True), bn_b.requires_grad_(True), fc_w.requires_grad_(True),
              fc_b.requires_grad_(True)]
    running_mean = torch.zeros(bn_w.shape[0])
    running_var = torch.ones(bn_w.shape[0])
    opt = torch.optim.SGD(params, lr=p["lr"], momentum=p["momentum"], weight_decay=p["weight_decay"])
    losses = []
    for step in range(p["steps"]):
        batch = to_nchw(images[step])
        h = F.conv2d(batch, conv_w, padding=1)
        h = F.batch_norm(h, running_mean, running_var, bn_w, bn_b, training=True, momentum=0.1)
        h = F.max_pool2d(F.relu(h), 3, 2, 1)
        logits = F.linear(h.mean((2, 3)), fc_w, fc_b)
        loss = F.cross_entropy(logits, labels[step])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.detach())
    return (torch.stack(losses), conv_w.detach().permute(0, 2, 3, 1).contiguous(), fc_w.detach(), running_mean,
            running_var)
