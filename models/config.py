"""`HRMConfig`: every architecture and ACT field, serialised to config.json.

Defaults are the reference HRM (d 512, 8 heads, 4+4 layers, 2x2 cycles, 16 segments) for
Sudoku; CPU-trainable models override the sizes.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.errors import ModelError

LOSS_TYPES = ("stablemax", "softmax")
# "rope" and "learned" are the reference's options (rope its default); "rope2d" is ours.
POS_ENCODINGS = ("rope", "learned", "rope2d")
# "one_step" is the reference's gradient (only the last L and H update of a segment); "segment"
# backpropagates through every update of the segment (still none across segments).
SEGMENT_GRADIENTS = ("one_step", "segment")


@dataclass
class HRMConfig:
    puzzle_kind: str = "sudoku"
    vocab_size: int = 11
    seq_len: int = 81
    num_puzzle_identifiers: int = 1
    puzzle_emb_ndim: int = 512
    hidden_size: int = 512
    num_heads: int = 8
    H_layers: int = 4
    L_layers: int = 4
    H_cycles: int = 2
    L_cycles: int = 2
    expansion: float = 4.0
    rope_theta: float = 10000.0
    # "learned": an absolute position table added to the input embedding (reference option);
    # it tells each cell its row, column and box directly instead of through RoPE phases.
    # "rope2d": RoPE by row in half of each head and by column in the other (grid_shape).
    pos_encodings: str = "rope"
    # Ours: a learned absolute table added to the input embedding on top of RoPE (1-D or 2-D).
    # RoPE scores see only offsets, so a cell cannot tell which 3x3 box it is in; the table
    # starts at zero, so a RoPE model warm-started with it computes the same function.
    absolute_positions: bool = False
    # Ours, 2-D RoPE only: the side of the grid's boxes (3 for Sudoku, 0 = none). Coordinates
    # leave a gap between boxes, so one offset range means "same box" (layers.grid_rope_tables).
    rope_boxes: int = 0
    # Ours: each grid cell attends only to the cells within attention_window // 2 rows and
    # columns (and to the puzzle-embedding positions, which see everything); 0 = full
    # attention (reference). Cost grows with the window, not the grid (models/local_attention.py).
    attention_window: int = 0
    # Ours, with a window: whether grid cells also attend to the puzzle-embedding positions.
    # Those sit at (-1, -1) for 2-D RoPE, so a cell's score to them depends on where the cell
    # is and they average the whole grid: an 11x11 maze moved 9 cells down and right on a 30x30
    # canvas dropped from 78% to 48% exact. False makes a cell's update depend only on its
    # window, the same at every position and grid size; the prefix still sees every cell.
    window_prefix: bool = True
    # Ours, training only: a head on z_H predicts each open cell's steps from S and from G
    # modulo this many classes, an auxiliary loss that teaches a distance wavefront (mazes with
    # loops need one; puzzles/maze/wavefront.py). 0 = none (reference). Answers never read it.
    distance_classes: int = 0
    rms_norm_eps: float = 1e-5
    halt_max_steps: int = 16
    halt_exploration_prob: float = 0.1
    loss_type: str = "stablemax"
    # Costs about one forward pass per update more in backward; TRM (Jolicoeur-Martineau, 2025)
    # found full backpropagation through one recursion far better than the one-step gradient.
    segment_gradient: str = "one_step"
    # Grid geometry (rows, cols): for decoding in the UI and puzzles glue, and for 2-D RoPE.
    grid_shape: tuple[int, int] = (9, 9)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.grid_shape = tuple(self.grid_shape)  # JSON gives lists
        problems = []
        for name in ("vocab_size", "seq_len", "num_puzzle_identifiers", "hidden_size", "num_heads",
                     "H_layers", "L_layers", "H_cycles", "L_cycles", "halt_max_steps"):
            if int(getattr(self, name)) < 1:
                problems.append(f"{name} must be >= 1")
        if problems:
            raise ModelError("invalid model config: " + "; ".join(problems))
        if self.hidden_size % self.num_heads:
            problems.append(f"hidden_size {self.hidden_size} not divisible by num_heads {self.num_heads}")
        if self.pos_encodings not in POS_ENCODINGS:
            problems.append(f"pos_encodings must be one of {POS_ENCODINGS}, not {self.pos_encodings!r}")
        elif self.pos_encodings == "rope" and (self.hidden_size // max(self.num_heads, 1)) % 2:
            problems.append("head dimension must be even for RoPE")
        elif self.pos_encodings == "rope2d":
            if (self.hidden_size // max(self.num_heads, 1)) % 4:
                problems.append("head dimension must be a multiple of 4 for 2-D RoPE")
            if self.grid_shape[0] * self.grid_shape[1] != self.seq_len:
                problems.append(f"2-D RoPE needs grid_shape {self.grid_shape} to cover seq_len {self.seq_len}")
        if self.absolute_positions and self.pos_encodings not in ("rope", "rope2d"):
            problems.append("absolute_positions adds a table on top of RoPE; pos_encodings "
                            f"{self.pos_encodings!r} already is one")
        if self.rope_boxes < 0 or self.rope_boxes and (
                self.pos_encodings != "rope2d" or any(side % self.rope_boxes for side in self.grid_shape)):
            problems.append(f"rope_boxes {self.rope_boxes} needs 2-D RoPE on a grid of whole boxes, "
                            f"not {self.pos_encodings} on {self.grid_shape[0]}x{self.grid_shape[1]}")
        if self.attention_window and (self.attention_window < 3 or self.attention_window % 2 == 0
                                      or self.grid_shape[0] * self.grid_shape[1] != self.seq_len):
            problems.append(f"attention_window must be 0 or an odd number >= 3 on a grid that covers seq_len, "
                            f"not {self.attention_window} on {self.grid_shape[0]}x{self.grid_shape[1]}")
        if not self.window_prefix and not self.attention_window:
            problems.append("window_prefix off needs an attention_window (without one every cell sees everything)")
        if self.distance_classes < 0 or self.distance_classes == 1:
            problems.append(f"distance_classes must be 0 (none) or >= 2, not {self.distance_classes}")
        if self.segment_gradient not in SEGMENT_GRADIENTS:
            problems.append(f"segment_gradient must be one of {SEGMENT_GRADIENTS}, not {self.segment_gradient!r}")
        if self.loss_type not in LOSS_TYPES:
            problems.append(f"loss_type must be one of {LOSS_TYPES}, not {self.loss_type!r}")
        if self.puzzle_emb_ndim < 0:
            problems.append("puzzle_emb_ndim must be >= 0")
        if problems:
            raise ModelError("invalid model config: " + "; ".join(problems))

    @property
    def positions(self) -> str:
        """The position encoding as messages name it, e.g. "rope2d with 3x3 boxes"."""
        boxes = f" with {self.rope_boxes}x{self.rope_boxes} boxes" if self.rope_boxes else ""
        window = (f", {self.attention_window}x{self.attention_window} attention window"
                  + ("" if self.window_prefix else " (cells see no prefix)")) if self.attention_window else ""
        return self.pos_encodings + boxes + (" + absolute table" if self.absolute_positions else "") + window

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads

    @property
    def puzzle_emb_len(self) -> int:
        """Number of positions the puzzle embedding occupies in front of the tokens."""
        return math.ceil(self.puzzle_emb_ndim / self.hidden_size)

    @property
    def mlp_hidden(self) -> int:
        """SwiGLU inner width: expansion * d * 2/3 rounded up to a multiple of 256."""
        inter = round(self.expansion * self.hidden_size * 2 / 3)
        return -(-inter // 256) * 256

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["grid_shape"] = list(self.grid_shape)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "HRMConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ModelError(f"unknown config fields: {', '.join(unknown)}")
        try:
            return cls(**data)
        except TypeError as exc:
            raise ModelError(f"invalid model config: {exc}") from None

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> "HRMConfig":
        try:
            data = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ModelError(f"missing {path}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelError(f"{path} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ModelError(f"{path} must hold a JSON object")
        return cls.from_dict(data)
