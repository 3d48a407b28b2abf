"""Cross-entropy (stablemax or softmax) and the ACT loss with its metrics, as in the reference."""

from __future__ import annotations

import mlx.core as mx

IGNORE_LABEL = -100


def _stablemax_s(x: mx.array, eps: float = 1e-30) -> mx.array:
    return mx.where(x < 0, 1 / (1 - x + eps), x + 1)


def log_stablemax(logits: mx.array) -> mx.array:
    s = _stablemax_s(logits)
    return mx.log(s) - mx.log(mx.sum(s, axis=-1, keepdims=True))


def log_probs(logits: mx.array, loss_type: str) -> mx.array:
    if loss_type == "stablemax":
        return log_stablemax(logits)
    return logits - mx.logsumexp(logits, axis=-1, keepdims=True)


def token_cross_entropy(logits: mx.array, labels: mx.array, loss_type: str) -> mx.array:
    """Per-token CE, zero where the label is IGNORE_LABEL."""
    valid = labels != IGNORE_LABEL
    safe = mx.where(valid, labels, 0)
    lp = mx.take_along_axis(log_probs(logits, loss_type), safe[..., None], axis=-1)[..., 0]
    return mx.where(valid, -lp, 0.0)


def binary_cross_entropy_with_logits(logits: mx.array, targets: mx.array) -> mx.array:
    return mx.maximum(logits, 0) - logits * targets + mx.log1p(mx.exp(-mx.abs(logits)))


def act_loss(logits, labels, q_halt, q_continue, target_q_continue, halted, steps, loss_type):
    """Loss summed over the batch and metrics (sums over halted rows), as the reference's
    ACTLossHead: per-sequence mean token CE + 0.5 * (BCE(q_halt, exact) + BCE(q_cont, target))."""
    valid = labels != IGNORE_LABEL
    counts = valid.sum(-1)
    divisor = mx.maximum(counts, 1)[:, None].astype(mx.float32)
    with_grad_logits = logits
    logits = mx.stop_gradient(logits)
    correct = valid & (mx.argmax(logits, axis=-1) == labels)
    seq_correct = correct.sum(-1) == counts
    counted = halted & (counts > 0)
    metrics = {
        "count": counted.sum(),
        "accuracy": mx.where(counted, (correct.astype(mx.float32) / divisor).sum(-1), 0).sum(),
        "exact_accuracy": (counted & seq_correct).sum(),
        "q_halt_accuracy": (counted & ((q_halt >= 0) == seq_correct)).sum(),
        "steps": mx.where(counted, steps, 0).sum(),
    }
    lm_loss = (token_cross_entropy(with_grad_logits, labels, loss_type) / divisor).sum()
    q_halt_loss = binary_cross_entropy_with_logits(q_halt, seq_correct.astype(mx.float32)).sum()
    loss = lm_loss + 0.5 * q_halt_loss
    if target_q_continue is not None:
        q_continue_loss = binary_cross_entropy_with_logits(q_continue, target_q_continue).sum()
        loss = loss + 0.5 * q_continue_loss
        metrics["q_continue_loss"] = q_continue_loss
    metrics["lm_loss"] = lm_loss
    metrics["q_halt_loss"] = q_halt_loss
    return loss, metrics


def distance_terms(logits: mx.array, targets: mx.array, loss_type: str) -> tuple[mx.array, mx.array]:
    """The distance head's loss, summed over the batch of per-sequence means (like the token
    loss), and each row's share of correct distance predictions (no gradient).
    `logits` (B, S, 2, K), `targets` (B, S, 2) with IGNORE_LABEL where not supervised."""
    B = targets.shape[0]
    flat_logits, flat_targets = logits.reshape(B, -1, logits.shape[-1]), targets.reshape(B, -1)
    valid = flat_targets != IGNORE_LABEL
    divisor = mx.maximum(valid.sum(-1), 1).astype(mx.float32)
    loss = (token_cross_entropy(flat_logits, flat_targets, loss_type).sum(-1) / divisor).sum()
    hits = valid & (mx.argmax(mx.stop_gradient(flat_logits), axis=-1) == flat_targets)
    return loss, hits.sum(-1).astype(mx.float32) / divisor
