"""PyTorch models of the ONNX tests (tests/onnx/onnx_torch.py), small enough that the
PyTorch float64 references (double backward, the full Hessian) take seconds.
Each builder returns (model, per-sample input shape, classes). Builders are called after
torch.manual_seed, so the weights are reproducible; BatchNorm gets non-trivial running
statistics and affine parameters, so its eval-mode form is not the identity."""
import math

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


class TokenMLP(nn.Module):
    """Next-token model without attention: token embedding + positional embedding (Gather
    of a parameter by the data's ids and by a constant arange), a per-position tanh MLP to
    logits [N, T, vocab]."""

    def __init__(self, vocab=11, context=8, width=16):
        super().__init__()
        self.tok = nn.Embedding(vocab, width)
        self.pos = nn.Embedding(context, width)
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, vocab)
        self.context = context

    def forward(self, idx):
        h = self.tok(idx) + self.pos(torch.arange(self.context))
        return self.fc2(torch.tanh(self.fc1(h)))


class TokenClassifier(nn.Module):
    """One class per sequence: embeddings, tanh, then the flattened sequence and the last
    position (x[:, -1, :], a Gather of a batched value with a constant index) to classes."""

    def __init__(self, vocab=11, context=8, width=6, classes=3):
        super().__init__()
        self.tok = nn.Embedding(vocab, width)
        self.pos = nn.Embedding(context, width)
        self.flat = nn.Linear(context * width, classes)
        self.last = nn.Linear(width, classes)
        self.context = context

    def forward(self, idx):
        h = torch.tanh(self.tok(idx) + self.pos(torch.arange(self.context)))
        return self.flat(h.reshape(h.shape[0], -1)) + self.last(h[:, -1, :])


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


class GPTBlock(nn.Module):
    """Pre-LayerNorm transformer block as minGPT writes it: causal self-attention (fused qkv,
    heads by view and transpose, masked_fill of a causal buffer with -inf, softmax) and a GELU
    MLP, each with a residual connection."""

    def __init__(self, width, heads, context, hidden):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(width)
        self.attn = nn.ModuleDict({"qkv": nn.Linear(width, 3 * width), "proj": nn.Linear(width, width)})
        self.ln2 = nn.LayerNorm(width)
        self.mlp = nn.ModuleDict({"fc": nn.Linear(width, hidden), "out": nn.Linear(hidden, width)})
        self.register_buffer("mask", torch.tril(torch.ones(context, context)).view(1, 1, context, context))

    def forward(self, x):
        B, t, c = x.size()
        d = c // self.heads
        q, k, v = self.attn["qkv"](self.ln1(x)).split(c, dim=2)
        q = q.view(B, t, self.heads, d).transpose(1, 2)
        k = k.view(B, t, self.heads, d).transpose(1, 2)
        v = v.view(B, t, self.heads, d).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / d ** 0.5)
        att = F.softmax(att.masked_fill(self.mask[:, :, :t, :t] == 0, float("-inf")), dim=-1)
        x = x + self.attn["proj"]((att @ v).transpose(1, 2).contiguous().view(B, t, c))
        return x + self.mlp["out"](F.gelu(self.mlp["fc"](self.ln2(x))))


class TinyGPT(nn.Module):
    """Decoder-only transformer: token + positional embedding, `layers` GPTBlocks, a final
    LayerNorm and a linear head to next-token logits [N, T, vocab]. Parameter names group
    the blocks for per-block spectra: tok/pos (embeddings), *attn* , *mlp*, *ln*, head."""

    def __init__(self, vocab=11, context=8, width=16, heads=2, layers=1, hidden=None, seq_len=None):
        super().__init__()
        self.context = context
        self.seq_len = seq_len or context
        self.tok = nn.Embedding(vocab, width)
        self.pos = nn.Embedding(context, width)
        self.blocks = nn.ModuleList([GPTBlock(width, heads, context, hidden or 4 * width) for _ in range(layers)])
        self.lnf = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab)

    def forward(self, idx):
        # the positions of the exported length (a constant arange: no Range node); sequences
        # may be shorter than the context (seq_len < context rows of the positional table)
        x = self.tok(idx) + self.pos(torch.arange(self.seq_len))
        for b in self.blocks:
            x = b(x)
        return self.head(self.lnf(x))


class TokenEncoder(nn.Module):
    """Next-token model around nn.TransformerEncoderLayer(batch_first=True, dropout 0) with a
    causal float mask, for a PLAIN torch.onnx.export (onnx_torch.py case token_tel): token +
    positional embeddings, the layer (PyTorch's math path of attention: the batch moved and
    merged with the heads inside, batch-first at both ends), a head to logits [N, T, vocab]."""

    def __init__(self, vocab=11, context=8, width=8, heads=2, hidden=12):
        super().__init__()
        self.context = context
        self.tok = nn.Embedding(vocab, width)
        self.pos = nn.Embedding(context, width)
        self.layer = nn.TransformerEncoderLayer(width, heads, hidden, dropout=0.0, batch_first=True)
        self.register_buffer("causal", torch.triu(torch.full((context, context), float("-inf")), 1))
        self.head = nn.Linear(width, vocab)

    def forward(self, idx):
        x = self.tok(idx) + self.pos(torch.arange(self.context))
        return self.head(self.layer(x, src_mask=self.causal))


class SeqFirstLM(nn.Module):
    """A seq-first language model in the style of PyTorch's transformer tutorial, for a plain
    torch.onnx.export (onnx_torch.py case token_seq_first): ids [T, N] (the batch at axis 1),
    an embedding scaled by sqrt(width) plus a positional encoding [T, 1, width] (a parameter started
    at the sinusoids: a shared operand with 1 at the batch axis),
    nn.TransformerEncoderLayer(batch_first=False) with a causal mask, logits [T, N, vocab]."""

    def __init__(self, vocab=11, context=8, width=8, heads=2, hidden=12):
        super().__init__()
        self.width = width
        self.tok = nn.Embedding(vocab, width)
        pos = torch.arange(context).unsqueeze(1)
        freq = torch.exp(torch.arange(0, width, 2) * (-math.log(10000.0) / width))
        pe = torch.zeros(context, 1, width)
        pe[:, 0, 0::2] = torch.sin(pos * freq)
        pe[:, 0, 1::2] = torch.cos(pos * freq)
        self.pe = nn.Parameter(pe)  # learned, from the sinusoids (hessa makes a float initializer added to activations a parameter)
        self.layer = nn.TransformerEncoderLayer(width, heads, hidden, dropout=0.0)
        self.register_buffer("causal", torch.triu(torch.full((context, context), float("-inf")), 1))
        self.head = nn.Linear(width, vocab)

    def forward(self, idx):
        x = self.tok(idx) * math.sqrt(self.width) + self.pe[:idx.size(0)]
        return self.head(self.layer(x, src_mask=self.causal))


def _randomize_gpt_layernorm(model):
    """LayerNorm starts at weight ones and bias zeros (equal initializers the exporter would
    merge): give each its own values."""
    for m in model.modules():
        if isinstance(m, nn.LayerNorm):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
    return model


class ViTBlock(nn.Module):
    """Pre-LayerNorm encoder block of a vision transformer: nn.MultiheadAttention(batch_first=True)
    (tools/onnx_export.py exports it as BatchFirstAttention: in_proj_weight.chunk(3) is a Split
    of a parameter, heads by view and transpose, batched MatMuls, Softmax) and a GELU MLP, each
    with a residual connection."""

    def __init__(self, width, heads, hidden):
        super().__init__()
        self.ln1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.ln2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, hidden), nn.GELU(), nn.Linear(hidden, width))

    def forward(self, x):
        h = self.ln1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


class TinyViT(nn.Module):
    """A vision transformer on single-channel images [1, image, image]: patches of patch x patch
    pixels embedded by a strided Conv ([B, E, h, w] -> flatten(2) -> transpose(1, 2): [B, h w, E],
    a Reshape and a Transpose), a learned class token expanded to the batch
    (cls.expand(B, -1, -1): an Expand of a parameter whose shape holds the batch size) and
    concatenated in front of the patch tokens (Concat), a learned positional embedding added
    (Add of a parameter [1, T, E]), `depth` ViTBlocks, a final LayerNorm and a linear head on
    the class token (x[:, 0]: a Gather selection). Parameter names group the blocks for
    per-block spectra: patch/cls/pos (embeddings), *attn*, *mlp*, *ln*, head."""

    def __init__(self, image=8, patch=4, width=16, heads=2, depth=1, hidden=16, classes=3):
        super().__init__()
        tokens = (image // patch) ** 2 + 1
        self.patch = nn.Conv2d(1, width, patch, stride=patch)
        self.cls = nn.Parameter(0.5 * torch.randn(1, 1, width))
        self.pos = nn.Parameter(0.5 * torch.randn(1, tokens, width))
        self.blocks = nn.ModuleList([ViTBlock(width, heads, hidden) for _ in range(depth)])
        self.ln = nn.LayerNorm(width)
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        B = x.shape[0]
        t = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(B, -1, -1), t], dim=1) + self.pos
        for b in self.blocks:
            x = b(x)
        return self.head(self.ln(x)[:, 0])


def _randomize_vit(model):
    """LayerNorm's ones and zeros and the attention's zero biases (equal initializers the
    exporter would merge, and a point where many second derivatives vanish): random values."""
    _randomize_gpt_layernorm(model)
    for m in model.modules():
        if isinstance(m, nn.MultiheadAttention):
            with torch.no_grad():
                m.in_proj_bias.uniform_(-0.3, 0.3)
                m.out_proj.bias.uniform_(-0.3, 0.3)
    return model


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
    # token models: the per-sample shape is (context,), "classes" the vocabulary (token_mlp)
    # or the sequence classes (token_class)
    if name == "token_mlp":
        return TokenMLP(), (8,), 11
    if name == "token_class":
        return TokenClassifier(), (8,), 3
    if name == "token_gpt":
        # the tiny GPT: width 16, 2 heads, context 8, vocabulary 11, one block (MLP width 16
        # so that the full Hessian of PyTorch and hessa's full spectrum take seconds)
        return _randomize_gpt_layernorm(TinyGPT(hidden=16)), (8,), 11
    if name == "token_seq_first":
        return _randomize_gpt_layernorm(SeqFirstLM()), (8,), 11
    if name == "token_tel":
        return _randomize_gpt_layernorm(TokenEncoder()), (8,), 11
    if name == "vit":
        # 8x8 images, 4 patches of 4x4 and the class token, width 12, 2 heads, one block
        # (MLP width 12), 3 classes: n = 1323, so PyTorch's full Hessian takes seconds
        # (width 16 gives n = 2147 and about 4x the time)
        return _randomize_vit(TinyViT(width=12, hidden=12)), (1, 8, 8), 3
    from attention_models import build_attention  # attention, causal, mha
    found = build_attention(name)
    if found:
        return found
    raise KeyError(name)
