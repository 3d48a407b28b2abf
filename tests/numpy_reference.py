"""An independent numpy re-statement of the reference HRM forward pass (float64).

Written from the paper and the reference description, not from our MLX code, and read from a
plain name -> array dict so the two implementations share nothing but the weights.
"""

from __future__ import annotations

import math

import numpy as np


def rms_norm(x, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)


def rotary_tables(length, head_dim, base):
    inv_freq = 1.0 / (base ** (np.arange(0, head_dim, 2) / head_dim))
    freqs = np.outer(np.arange(length), inv_freq)
    emb = np.concatenate([freqs, freqs], axis=-1)
    return np.cos(emb), np.sin(emb)


def rotate_half(x):
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def silu(x):
    return x / (1 + np.exp(-x))


class ReferenceHRM:
    def __init__(self, weights: dict[str, np.ndarray], cfg: dict):
        self.w = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
        self.cfg = cfg
        self.d = cfg["hidden_size"]
        self.heads = cfg["num_heads"]
        self.hd = self.d // self.heads
        self.p_len = math.ceil(cfg["puzzle_emb_ndim"] / self.d)
        total = cfg["seq_len"] + self.p_len
        self.cos, self.sin = rotary_tables(total, self.hd, cfg["rope_theta"])

    def attention(self, h, prefix):
        B, S, D = h.shape
        qkv = h @ self.w[prefix + "qkv_proj.weight"].T
        qkv = qkv.reshape(B, S, 3 * self.heads, self.hd)
        q, k, v = qkv[:, :, : self.heads], qkv[:, :, self.heads: 2 * self.heads], qkv[:, :, 2 * self.heads:]
        if self.cfg.get("pos_encodings", "rope") == "rope":
            cos, sin = self.cos[:S, None, :], self.sin[:S, None, :]
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
        elif self.cfg.get("pos_encodings") == "rope2d":  # rows rotate the first half, columns the second
            rows, cols = self.cfg["grid_shape"]
            r, c = np.divmod(np.arange(rows * cols), cols)
            box = self.cfg.get("rope_boxes", 0)
            if box:  # ours: a gap of 2 * box coordinates between boxes
                r, c = r + 2 * box * (r // box), c + 2 * box * (c // box)
            r, c = (np.concatenate([np.full(self.p_len, -1), a])[:S] for a in (r, c))
            half = self.hd // 2
            inv = 1.0 / self.cfg["rope_theta"] ** (np.arange(0, half, 2) / half)
            tables = []
            for pos in (r, c):
                ang = np.outer(pos, inv)
                tables.append(np.concatenate([ang, ang], axis=1))
            ang = np.concatenate(tables, axis=1)[:, None, :]
            cos, sin = np.cos(ang), np.sin(ang)

            def rot(x):
                return np.concatenate([rotate_half(x[..., :half]), rotate_half(x[..., half:])], axis=-1)
            q = q * cos + rot(q) * sin
            k = k * cos + rot(k) * sin
        scores = np.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(self.hd)
        window = self.cfg.get("attention_window", 0)
        if window:  # ours: cells see the cells within window // 2 rows and columns, and the prefix
            rows, cols = self.cfg["grid_shape"]
            r, c = np.divmod(np.arange(rows * cols), cols)
            near = (np.abs(r[:, None] - r[None, :]) <= window // 2) & (np.abs(c[:, None] - c[None, :]) <= window // 2)
            visible = np.ones((S, S), bool)
            visible[self.p_len:, self.p_len:] = near
            visible[self.p_len:, :self.p_len] = self.cfg.get("window_prefix", True)
            scores = np.where(visible, scores, -np.inf)
        out = np.einsum("bhqk,bkhd->bqhd", softmax(scores), v).reshape(B, S, D)
        return out @ self.w[prefix + "o_proj.weight"].T

    def mlp(self, h, prefix):
        gate_up = h @ self.w[prefix + "gate_up_proj.weight"].T
        gate, up = np.split(gate_up, 2, axis=-1)
        return (silu(gate) * up) @ self.w[prefix + "down_proj.weight"].T

    def module(self, level, h, injection):
        h = h + injection
        eps = self.cfg["rms_norm_eps"]
        n = self.cfg[f"{level}_layers"]
        for i in range(n):
            prefix = f"{level}_level.layers.{i}."
            h = rms_norm(h + self.attention(h, prefix + "self_attn."), eps)
            h = rms_norm(h + self.mlp(h, prefix + "mlp."), eps)
        return h

    def embed(self, inputs, puzzle_ids):
        emb = self.w["embed_tokens.weight"][inputs]
        if self.cfg["puzzle_emb_ndim"] > 0:
            rows = self.w["puzzle_emb"][puzzle_ids][:, : self.cfg["puzzle_emb_ndim"]]
            pad = self.p_len * self.d - rows.shape[1]
            rows = np.pad(rows, ((0, 0), (0, pad)))
            emb = np.concatenate([rows.reshape(len(inputs), self.p_len, self.d), emb], axis=1)
        if self.cfg.get("pos_encodings", "rope") == "learned":  # reference: 0.707 * (emb + embed_pos)
            emb = 0.707106781 * (emb + self.w["embed_pos"])
        elif self.cfg.get("absolute_positions"):  # ours: added on top of RoPE, unscaled
            emb = emb + self.w["embed_pos"]
        return math.sqrt(self.d) * emb

    def initial(self, batch):
        S = self.cfg["seq_len"] + self.p_len
        return (np.broadcast_to(self.w["H_init"], (batch, S, self.d)).copy(),
                np.broadcast_to(self.w["L_init"], (batch, S, self.d)).copy())

    def segment(self, z_H, z_L, x):
        for _h in range(self.cfg["H_cycles"]):
            for _l in range(self.cfg["L_cycles"]):
                z_L = self.module("L", z_L, z_H + x)
            z_H = self.module("H", z_H, z_L)
        logits = z_H[:, self.p_len:] @ self.w["lm_head.weight"].T
        q = z_H[:, 0] @ self.w["q_head.weight"].T + self.w["q_head.bias"]
        return z_H, z_L, logits, q[:, 0], q[:, 1]

    def distance_logits(self, z_H):
        """(B, S, 2, K): the auxiliary head's steps-from-S and steps-from-G class logits."""
        logits = z_H[:, self.p_len:] @ self.w["distance_head.weight"].T
        return logits.reshape(*logits.shape[:2], 2, self.cfg["distance_classes"])


def distance_loss(logits, targets, ignore=-100):
    """Sum over rows of the mean softmax cross-entropy over supervised (cell, endpoint) pairs."""
    B, K = logits.shape[0], logits.shape[-1]
    flat, labels = logits.reshape(B, -1, K), targets.reshape(B, -1)
    shifted = flat - flat.max(-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    total = 0.0
    for row in range(B):
        valid = labels[row] != ignore
        picked = log_p[row][valid, labels[row][valid]]
        total += -picked.sum() / max(valid.sum(), 1)
    return total
