"""The text of the model card and help screens (Markdown)."""

from __future__ import annotations

from hrm_tui.app.weights import LoadedModel

CONFIG_FIELDS = ("puzzle_kind", "hidden_size", "num_heads", "H_layers", "L_layers", "H_cycles",
                 "L_cycles", "halt_max_steps", "seq_len", "vocab_size", "num_puzzle_identifiers",
                 "loss_type")


def model_markdown(kind: str, loaded: LoadedModel | None, error: str | None) -> str:
    if loaded is None:
        reason = error or "still loading"
        return (f"# No {kind} model\n\n{reason}\n\nPress **w** to choose a weights directory "
                f"(or train one with `hrm train {kind}`). Puzzles can be entered without a model.")
    from models.hrm import count_parameters

    cfg = loaded.config
    lines = [f"# {loaded.label}", "", f"`{loaded.source}`", "",
             f"{count_parameters(loaded.model):,} trainable parameters.", "",
             "| field | value |", "|---|---|"]
    lines += [f"| {name} | {getattr(cfg, name)} |" for name in CONFIG_FIELDS]
    if loaded.metrics:
        lines += ["", "## Metrics", "", "| metric | value |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in loaded.metrics.items() if not isinstance(v, (dict, list))]
    lines += ["", "## Card", "", loaded.card or "_This directory has no card.md._"]
    return "\n".join(lines)


HELP_INTRO = """\
# Watching HRM think

A **Hierarchical Reasoning Model** thinks in *segments*. Within a segment the fast low-level
module **L** updates L_cycles times for every update of the slow high-level module **H**,
which updates H_cycles times. After each segment the model decodes its answer from **H**,
and a small Q-head decides whether to **halt** (Q-halt > Q-continue) or think on.

- **Puzzle**: the input. Givens are bold, your own digits blue and italic, conflicts red.
- **H · answer**: H decoded to a grid. Cells that changed since the previous frame are
  underlined in yellow; dim cells are ones the model is unsure of (probability < 0.5);
  red cells break a rule.
- **L · working**: L's state read through the same output head: its scratch work.
- **Q plot**: ● Q-halt and ○ Q-continue (as probabilities) per segment; the dashed column is
  where ACT halts; the highlighted column is the segment on screen.
- **Status**: segment k of N, the halting decision, and the verdict of the puzzle's rules on
  H now and on the final answer.

By default the solve stops where ACT halts (**a** runs all segments instead, to see whether
more thinking would change the answer). **i** steps through every L and H update inside a
segment. The solve runs in the background: keep editing, or press **Esc** to stop it.
"""


def help_markdown(bindings: list[tuple[str, str, str]], kind_keys: str) -> str:
    """`bindings` are (keys, description, where) rows for every active binding."""
    rows = "\n".join(f"| `{keys}` | {description} | {where} |" for keys, description, where in bindings)
    return (f"{HELP_INTRO}\n## Editing\n\n{kind_keys}\n\n## Keys\n\n| key | action | where |\n|---|---|---|\n"
            f"{rows}\n\nEvery action is also in the command palette (**ctrl+p**). "
            "Set `NO_COLOR=1` for a monochrome display.\n")
