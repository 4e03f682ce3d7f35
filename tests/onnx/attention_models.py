"""Attention models of the ONNX tests (tests/onnx/onnx_torch.py cases attention, causal, mha,
encoder):
per-sample inputs [T, C] of floats (no embedding), a linear classifier on the flattened
output. Builders are called after torch.manual_seed, so the weights are reproducible."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

T, C, H, CLASSES = 5, 8, 2, 3


class SelfAttention(nn.Module):
    """Hand-written multi-head self-attention in the layout of minGPT: one fused qkv Linear
    split in three (Split), heads by view [B, T, H, D] and transpose to [B, H, T, D] (Reshape,
    Transpose), scores q k^T / sqrt(D) (batched MatMul), a causal mask by masked_fill (Equal
    of a sliced constant buffer, Where), weights @ v (batched MatMul), heads merged back.
    softmax=False puts tanh where the softmax goes (a model that needs no Softmax kernel) and
    fills the mask with 0; softmax=True is the real thing (fill -inf).
    The tail exercises the runtime index ops: the last two positions (Slice), a copy along a
    new axis (Unsqueeze, Expand), and a squeeze back (Squeeze)."""

    def __init__(self, softmax):
        super().__init__()
        self.softmax = softmax
        self.qkv = nn.Linear(C, 3 * C)
        self.proj = nn.Linear(C, C)
        self.register_buffer("mask", torch.tril(torch.ones(T + 2, T + 2)).view(1, 1, T + 2, T + 2))
        self.head = nn.Linear(2 * 2 * C, CLASSES)

    def forward(self, x):
        B, t, c = x.size()
        d = c // H
        q, k, v = self.qkv(x).split(c, dim=2)
        q = q.view(B, t, H, d).transpose(1, 2)
        k = k.view(B, t, H, d).transpose(1, 2)
        v = v.view(B, t, H, d).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d))
        if self.softmax:
            att = F.softmax(att.masked_fill(self.mask[:, :, :t, :t] == 0, float("-inf")), dim=-1)
        else:
            att = torch.tanh(att.masked_fill(self.mask[:, :, :t, :t] == 0, 0.0))
        y = (att @ v).transpose(1, 2).contiguous().view(B, t, c)
        y = self.proj(y)[:, -2:, :]                                   # [B, 2, C]
        y = y.unsqueeze(2).expand(B, 2, 2, c)                         # [B, 2, 2, C]
        y = y.unsqueeze(4).squeeze(4)                                   # Unsqueeze, Squeeze at run time
        return self.head(y.reshape(B, -1))


class MHA(nn.Module):
    """nn.MultiheadAttention(batch_first=True) on the math path (need_weights=False, the
    model in training mode at export, dropout 0), a linear classifier on the flattened output."""

    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(C, H, batch_first=True)
        self.head = nn.Linear(T * C, CLASSES)

    def forward(self, x):
        y, _ = self.attn(x, x, x, need_weights=False)
        return self.head(y.flatten(1))


class Encoder(nn.Module):
    """nn.TransformerEncoderLayer(batch_first=True, dropout 0, GELU) with a causal float mask,
    a linear classifier on the flattened output: self-attention, LayerNorm, the MLP."""

    def __init__(self):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(C, H, 16, dropout=0.0, activation="gelu", batch_first=True)
        self.register_buffer("causal", torch.triu(torch.full((T, T), float("-inf")), 1))
        self.head = nn.Linear(T * C, CLASSES)

    def forward(self, x):
        return self.head(self.layer(x, src_mask=self.causal).flatten(1))


class EncoderMean(nn.Module):
    """nn.TransformerEncoderLayer(batch_first=True, dropout 0, ReLU) and a linear classifier
    on the mean over the sequence: for a plain torch.onnx.export (mha_plain)."""

    def __init__(self):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(C, H, 12, dropout=0.0, batch_first=True)
        self.head = nn.Linear(C, CLASSES)

    def forward(self, x):
        return self.head(self.layer(x).mean(1))


class SeqFirst(nn.Module):
    """A seq-first model: x [T, N, C] (the batch at axis 1 of the ONNX input),
    nn.MultiheadAttention(batch_first=False) with a causal mask, a residual, and a linear
    classifier on the mean over the sequence (axis 0)."""

    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(C, H)
        self.register_buffer("causal", torch.triu(torch.full((T, T), float("-inf")), 1))
        self.head = nn.Linear(C, CLASSES)

    def forward(self, x):
        y, _ = self.attn(x, x, x, attn_mask=self.causal, need_weights=False)
        return self.head(torch.tanh(x + y).mean(0))


def build_attention(name):
    """(model, per-sample input shape, classes) of an attention test model, or None."""
    if name == "attention":
        return SelfAttention(softmax=False), (T, C), CLASSES
    if name == "causal":
        return SelfAttention(softmax=True), (T, C), CLASSES
    if name == "mha":
        return MHA(), (T, C), CLASSES
    if name == "encoder":
        return Encoder(), (T, C), CLASSES
    if name == "encoder_mean":
        return EncoderMean(), (T, C), CLASSES
    if name == "seq_first":
        return SeqFirst(), (T, C), CLASSES
    return None
