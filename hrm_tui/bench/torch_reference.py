"""The HRM and its ACT training step in PyTorch (CPU, float32, eager), for `hrm bench`.

The same architecture, shapes and work per step as models/ (docs/architecture.md), written the
way the reference implementation is: post-norm blocks, RMSNorm without gain, SwiGLU, rotate-half
RoPE, non-causal attention, no biases; one-step gradient (every update but the last L and H
under no_grad); the no-grad target-Q segment; CE + 0.5 (BCE halt + BCE continue); AdamATan2;
SignSGD on the puzzle-embedding rows. Only speed is compared, so initialisation is simpler
than the reference's. Imported only when torch is installed.
"""

from __future__ import annotations

import math
import resource
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from hrm_tui.bench.timing import sgemm_rates, timed
from models.config import HRMConfig


class Attention(nn.Module):
    def __init__(self, cfg: HRMConfig):
        super().__init__()
        self.heads, self.head_dim = cfg.num_heads, cfg.head_dim
        self.qkv = nn.Linear(cfg.hidden_size, 3 * cfg.hidden_size, bias=False)
        self.out = nn.Linear(cfg.hidden_size, cfg.hidden_size, bias=False)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        B, S, d = x.shape
        q, k, v = self.qkv(x).view(B, S, 3, self.heads, self.head_dim).unbind(2)
        q, k = _rope(q, cos, sin), _rope(k, cos, sin)
        out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
        return self.out(out.transpose(1, 2).reshape(B, S, d))


def _rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin


class Block(nn.Module):
    def __init__(self, cfg: HRMConfig):
        super().__init__()
        self.eps = cfg.rms_norm_eps
        self.attn = Attention(cfg)
        self.gate_up = nn.Linear(cfg.hidden_size, 2 * cfg.mlp_hidden, bias=False)
        self.down = nn.Linear(cfg.mlp_hidden, cfg.hidden_size, bias=False)

    def forward(self, h: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        d = (h.shape[-1],)
        h = F.rms_norm(h + self.attn(h, cos, sin), d, eps=self.eps)
        gate, up = self.gate_up(h).chunk(2, dim=-1)
        return F.rms_norm(h + self.down(F.silu(gate) * up), d, eps=self.eps)


class Level(nn.Module):
    def __init__(self, cfg: HRMConfig, layers: int):
        super().__init__()
        self.layers = nn.ModuleList(Block(cfg) for _ in range(layers))

    def forward(self, h, injection, cos, sin):
        h = h + injection
        for layer in self.layers:
            h = layer(h, cos, sin)
        return h


class TorchHRM(nn.Module):
    def __init__(self, cfg: HRMConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.hidden_size
        self.embed = nn.Embedding(cfg.vocab_size, d)
        nn.init.normal_(self.embed.weight, std=1 / math.sqrt(d))
        self.lm_head = nn.Linear(d, cfg.vocab_size, bias=False)
        self.q_head = nn.Linear(d, 2)
        nn.init.zeros_(self.q_head.weight)
        nn.init.constant_(self.q_head.bias, -5.0)
        self.H_level = Level(cfg, cfg.H_layers)
        self.L_level = Level(cfg, cfg.L_layers)
        self.register_buffer("H_init", torch.randn(d))
        self.register_buffer("L_init", torch.randn(d))
        self.register_buffer("puzzle_emb", torch.zeros(cfg.num_puzzle_identifiers, d * cfg.puzzle_emb_len))
        positions = cfg.seq_len + cfg.puzzle_emb_len
        inv = 1.0 / (cfg.rope_theta ** (torch.arange(0, cfg.head_dim, 2, dtype=torch.float32) / cfg.head_dim))
        angles = torch.outer(torch.arange(positions, dtype=torch.float32), inv)
        angles = torch.cat((angles, angles), dim=-1)[:, None, :]  # (S, 1, head_dim) against (B, S, H, hd)
        self.register_buffer("cos", angles.cos())
        self.register_buffer("sin", angles.sin())

    def embeddings(self, inputs: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        emb = torch.cat((rows.view(len(rows), cfg.puzzle_emb_len, cfg.hidden_size), self.embed(inputs)), dim=1)
        return math.sqrt(cfg.hidden_size) * emb

    def segment(self, z_H, z_L, x):
        """One segment with the one-step gradient; returns (z_H, z_L, logits, q_halt, q_continue)."""
        cfg, cos, sin = self.cfg, self.cos, self.sin
        with torch.no_grad():
            for h_step in range(cfg.H_cycles):
                for l_step in range(cfg.L_cycles):
                    if h_step < cfg.H_cycles - 1 or l_step < cfg.L_cycles - 1:
                        z_L = self.L_level(z_L, z_H + x, cos, sin)
                if h_step < cfg.H_cycles - 1:
                    z_H = self.H_level(z_H, z_L, cos, sin)
        z_L = self.L_level(z_L, z_H + x, cos, sin)
        z_H = self.H_level(z_H, z_L, cos, sin)
        q = self.q_head(z_H[:, 0])
        return z_H, z_L, self.lm_head(z_H[:, cfg.puzzle_emb_len:]), q[:, 0], q[:, 1]


def _log_probs(logits: torch.Tensor, loss_type: str) -> torch.Tensor:
    if loss_type == "stablemax":
        s = torch.where(logits < 0, 1 / (1 - logits + 1e-30), logits + 1)
        return s.log() - s.sum(-1, keepdim=True).log()
    return logits.log_softmax(-1)


class TorchTrainer:
    """The ACT training step: persistent carry, refill of halted rows, exploration, target Q
    from one extra no-grad segment, one optimiser step per segment."""

    def __init__(self, cfg: HRMConfig, batch_size: int, lr: float = 1e-4, seed: int = 0):
        torch.manual_seed(seed)
        self.cfg, self.B = cfg, batch_size
        self.model = TorchHRM(cfg)
        self.params = [p for p in self.model.parameters()]
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.lr, self.betas, self.wd, self.t = lr, (0.9, 0.95), 0.1, 0
        positions = cfg.seq_len + cfg.puzzle_emb_len
        shape = (batch_size, positions, cfg.hidden_size)
        self.z_H = self.model.H_init.expand(shape).clone()
        self.z_L = self.model.L_init.expand(shape).clone()
        self.steps = torch.zeros(batch_size, dtype=torch.int64)
        self.halted = torch.ones(batch_size, dtype=torch.bool)
        self.inputs = torch.zeros(batch_size, cfg.seq_len, dtype=torch.int64)
        self.labels = torch.zeros(batch_size, cfg.seq_len, dtype=torch.int64)
        self.ids = torch.zeros(batch_size, dtype=torch.int64)

    def step(self, inputs: torch.Tensor, labels: torch.Tensor, ids: torch.Tensor) -> float:
        cfg, model = self.cfg, self.model
        reset = self.halted
        row = reset[:, None, None]
        z_H = torch.where(row, model.H_init, self.z_H)
        z_L = torch.where(row, model.L_init, self.z_L)
        self.inputs = torch.where(reset[:, None], inputs, self.inputs)
        self.labels = torch.where(reset[:, None], labels, self.labels)
        self.ids = torch.where(reset, ids, self.ids)
        steps = torch.where(reset, 0, self.steps) + 1

        rows = model.puzzle_emb[self.ids].clone().requires_grad_(True)
        x = model.embeddings(self.inputs, rows)
        z_H, z_L, logits, q_halt, q_cont = model.segment(z_H, z_L, x)
        with torch.no_grad():
            is_last = steps >= cfg.halt_max_steps
            explore = torch.rand(self.B) < cfg.halt_exploration_prob
            min_halt = torch.where(explore, torch.randint(2, cfg.halt_max_steps + 1, (self.B,)), 0)
            halted = (is_last | (q_halt > q_cont)) & (steps >= min_halt)
            _, _, _, next_halt, next_cont = model.segment(z_H.detach(), z_L.detach(), x.detach())
            target = torch.sigmoid(torch.where(is_last, next_halt, torch.maximum(next_halt, next_cont)))
            correct = (logits.argmax(-1) == self.labels).all(-1).float()

        token_loss = -_log_probs(logits, cfg.loss_type).gather(-1, self.labels[..., None])[..., 0]
        loss = (token_loss.mean(-1).sum()
                + 0.5 * F.binary_cross_entropy_with_logits(q_halt, correct, reduction="sum")
                + 0.5 * F.binary_cross_entropy_with_logits(q_cont, target, reduction="sum")) / self.B
        loss.backward()
        self._adam_atan2()
        with torch.no_grad():  # SignSGD on the puzzle-embedding rows seen in this batch
            model.puzzle_emb[self.ids] = rows * (1 - 1e-2 * 0.1) - 1e-2 * rows.grad.sign()
        self.z_H, self.z_L, self.steps, self.halted = z_H.detach(), z_L.detach(), steps, halted
        return float(loss)

    @torch.no_grad()
    def _adam_atan2(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        bc1, bc2 = 1 - b1**self.t, math.sqrt(1 - b2**self.t)
        for p, m, v in zip(self.params, self.m, self.v):
            g = p.grad
            p.mul_(1 - self.lr * self.wd)
            m.lerp_(g, 1 - b1)
            v.lerp_(g * g, 1 - b2)
            p.sub_(self.lr * torch.atan2(m / bc1, v.sqrt() / bc2))
            p.grad = None


def measure_train_step(config: dict[str, Any], batch_size: int, warmup: int, repeats: int,
                       threads: int) -> dict[str, Any]:
    """Wall and CPU seconds of `warmup + repeats` training steps on random Sudoku-shaped data."""
    torch.set_num_threads(threads)
    cfg = HRMConfig.from_dict(config)
    trainer = TorchTrainer(cfg, batch_size)
    gen = torch.Generator().manual_seed(0)
    walls, cpus, loss = [], [], float("nan")
    for _ in range(warmup + repeats):
        inputs = torch.randint(1, cfg.vocab_size, (batch_size, cfg.seq_len), generator=gen)
        labels = torch.randint(2, cfg.vocab_size, (batch_size, cfg.seq_len), generator=gen)
        loss, wall, cpu = timed(lambda: trainer.step(inputs, labels, torch.zeros(batch_size, dtype=torch.int64)))
        walls.append(wall)
        cpus.append(cpu)
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    return {"first_step_s": walls[0], "step_s": walls[warmup:], "cpu_s": cpus[warmup:],
            "loss_finite": math.isfinite(loss), **sgemm_rates(lambda: a @ b, 1024),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "version": torch.__version__, "threads": torch.get_num_threads()}
