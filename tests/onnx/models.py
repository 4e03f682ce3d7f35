"""PyTorch models of the ONNX tests (tests/onnx/onnx_torch.py), small enough that the
PyTorch float64 references (double backward, the full Hessian) take seconds.
Each builder returns (model, per-sample input shape, classes). Builders are called after
torch.manual_seed, so the weights are reproducible; BatchNorm gets non-trivial running
statistics and affine parameters, so its eval-mode form is not the identity."""
import torch
import torch.nn as nn
import torch.nn.functional as F


def _randomize_batchnorm(model):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
    return model


class SmallCNN(nn.Module):
    """conv 3x3 + ReLU + max pooling, twice, then a linear classifier. The first conv has a
    zero bias and a FRESH BatchNorm (weight ones = running_var, bias zeros = running_mean =
    conv1.bias): PyTorch's exporter merges equal initializers, tools/onnx_export.py must
    give each its own tensor back, or parameters would be tied."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        with torch.no_grad():
            self.conv1.bias.zero_()
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 6, 3, padding=1)
        self.fc = nn.Linear(6 * 2 * 2, 5)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(torch.flatten(x, 1))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


class ResNetTiny(nn.Module):
    """ResNet-style: stem conv + BN, a residual block, a stride-2 residual block with a 1x1
    projection, global average pooling, linear classifier."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(2, 4, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(4)
        self.layer1 = Block(4, 4, 1)
        self.layer2 = Block(4, 6, 2)
        self.fc = nn.Linear(6, 4)

    def forward(self, x):
        x = F.relu(self.bn(self.stem(x)))
        x = self.layer2(self.layer1(x))
        x = F.adaptive_avg_pool2d(x, 1)  # GlobalAveragePool in ONNX
        return self.fc(torch.flatten(x, 1))


class GroupedNet(nn.Module):
    """Grouped convolution (groups 2), depthwise (groups = channels) with stride 2 and
    dilation, pointwise 1x1, average pooling, a smooth activation (tanh)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 4, 3, padding=1)
        self.grouped = nn.Conv2d(4, 6, 3, padding=1, groups=2)
        self.depthwise = nn.Conv2d(6, 6, 3, stride=2, padding=2, dilation=2, groups=6)
        self.pointwise = nn.Conv2d(6, 4, 1)
        self.fc = nn.Linear(4 * 2 * 2, 3)

    def forward(self, x):
        x = torch.tanh(self.conv1(x))
        x = torch.tanh(self.grouped(x))
        x = torch.tanh(self.depthwise(x))
        x = F.avg_pool2d(self.pointwise(x), 2)
        return self.fc(torch.flatten(x, 1))


class ActNet(nn.Module):
    """conv + BN + a smooth activation, conv, average pooling, two linear layers with the
    same activation: GELU (exported as Erf) or sigmoid."""

    def __init__(self, act):
        super().__init__()
        self.act = act
        self.conv1 = nn.Conv2d(1, 3, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(3)
        self.conv2 = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.fc1 = nn.Linear(4 * 2 * 2, 8)
        self.fc2 = nn.Linear(8, 4)

    def forward(self, x):
        x = self.act(self.bn1(self.conv1(x)))
        x = F.avg_pool2d(self.act(self.conv2(x)), 2)
        x = self.act(self.fc1(torch.flatten(x, 1)))
        return self.fc2(x)


class TinyCNN(nn.Module):
    """A few hundred parameters, for the full spectrum: conv + tanh + max pool + linear."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 3, 3, padding=1)
        self.conv2 = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 2 * 2, 3)

    def forward(self, x):
        x = F.max_pool2d(torch.tanh(self.conv1(x)), 2)
        x = F.avg_pool2d(torch.tanh(self.conv2(x)), 2)
        return self.fc(torch.flatten(x, 1))


class FashionCNN(nn.Module):
    """Fashion-MNIST 28x28: conv 5x5 stride 2 (2 channels) + tanh + max pool 2, linear to 10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 2, 5, stride=2)
        self.fc = nn.Linear(2 * 6 * 6, 10)

    def forward(self, x):
        x = F.max_pool2d(torch.tanh(self.conv1(x)), 2)
        return self.fc(torch.flatten(x, 1))


def _randomize_layernorm(model):
    """nn.LayerNorm starts at weight ones and bias zeros (the exporter would also merge
    equal initializers): give every affine parameter its own values."""
    for m in model.modules():
        if isinstance(m, nn.LayerNorm):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
    return model


class LayerNormMLP(nn.Module):
    """Tokens [T=4, 6] through Linear (MatMul on a 3-D input), nn.LayerNorm over the
    features, GELU, Linear, nn.LayerNorm, tanh, then flatten and a linear classifier. At
    opset 17 each nn.LayerNorm is one LayerNormalization node; at opset 13 the exporter
    writes ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 8)
        self.ln1 = nn.LayerNorm(8)
        self.fc2 = nn.Linear(8, 5)
        self.ln2 = nn.LayerNorm(5, eps=1e-3)
        self.head = nn.Linear(4 * 5, 3)

    def forward(self, x):
        x = F.gelu(self.ln1(self.fc1(x)))
        x = torch.tanh(self.ln2(self.fc2(x)))
        return self.head(torch.flatten(x, 1))


class SoftmaxPool(nn.Module):
    """Tanh-approximated GELU and a hand-written RMS norm over the features of tokens [T=5, 4],
    then attention-style pooling: softmax over the token axis of a score,
    the weighted sum (ReduceSum) and the mean (ReduceMean) of the token features, hand-written
    pointwise functions (a sigmoid as 1 / (1 + exp(-x)): Neg, Exp, Reciprocal; sqrt(1 + m^2)
    and log(1 + m m): Pow, Sqrt, Log), and two heads: log_softmax and log(softmax)."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 6)
        self.score = nn.Linear(6, 1)
        self.fc = nn.Linear(12, 3)
        self.fc2 = nn.Linear(12, 3)

    def forward(self, x):
        h = F.gelu(self.proj(x), approximate="tanh")  # Pow(x, 3), Tanh arithmetic
        h = h * torch.rsqrt(h.pow(2).mean(dim=-1, keepdim=True) + 1e-6)  # an RMS norm: Pow, ReduceMean, Sqrt, Div
        w = torch.softmax(self.score(h), dim=1)
        pooled = (w * h).sum(dim=1)
        m = h.mean(dim=1)
        g = torch.reciprocal(1 + torch.exp(-pooled))
        r = torch.sqrt(1 + m ** 2) + torch.log(1 + m * m)
        z = torch.cat([g, r], dim=1)
        return 0.5 * (F.log_softmax(self.fc(z), dim=-1) + torch.log(F.softmax(self.fc2(z), dim=-1)))


def build(name):
    """(model, per-sample input shape, classes) of a test model."""
    if name == "dense":
        # no convolution: Flatten, Gemm, Tanh, GELU (Erf arithmetic), Sigmoid
        return nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 6), nn.GELU(), nn.Linear(6, 5), nn.Sigmoid(),
                             nn.Linear(5, 3)), (1, 4, 4), 3
    if name == "cnn":
        return SmallCNN(), (1, 8, 8), 5
    if name == "resnet":
        return _randomize_batchnorm(ResNetTiny()), (2, 8, 8), 4
    if name == "grouped":
        return GroupedNet(), (2, 8, 8), 3
    if name == "gelu":
        return _randomize_batchnorm(ActNet(F.gelu)), (1, 8, 8), 4
    if name == "sigmoid":
        return _randomize_batchnorm(ActNet(torch.sigmoid)), (1, 8, 8), 4
    if name == "tiny":
        return TinyCNN(), (1, 8, 8), 3
    if name == "layernorm":
        return _randomize_layernorm(LayerNormMLP()), (4, 6), 3
    if name == "softmax":
        return SoftmaxPool(), (5, 4), 3
    if name == "fashion":
        return FashionCNN(), (1, 28, 28), 10
    from attention_models import build_attention  # attention, causal, mha
    found = build_attention(name)
    if found:
        return found
    raise KeyError(name)
