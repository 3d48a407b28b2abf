"""Every shipped weights directory loads, carries its card, and still does what its card
says on a fixed set of puzzles, so a broken export cannot land."""

import json

import numpy as np
import pytest

from hrm_tui.data_sources import sudoku_level_set
from hrm_tui.model_store import KINDS, default_weights_dir, load_model
from hrm_tui.solving import PuzzleItem, decode_prediction, encode_items, run_model

SHIPPED = [kind for kind in KINDS if (default_weights_dir(kind) / "model.safetensors").is_file()]


def test_at_least_the_sudoku_model_ships():
    assert "sudoku" in SHIPPED


@pytest.mark.parametrize("kind", SHIPPED)
def test_shipped_weights_have_card_and_metrics(kind):
    directory = default_weights_dir(kind)
    card = (directory / "card.md").read_text()
    metrics = json.loads((directory / "metrics.json").read_text())
    assert metrics["kind"] == kind
    assert f"{metrics['parameters']:,} trainable parameters" in card
    assert "hrm eval" in card  # the command that reproduces the accuracy table


def test_shipped_sudoku_model_reproduces_its_card_on_easy_puzzles():
    """On 20 fixed easy puzzles the model solves some exactly, and its cell accuracy stays within
    a few points of the figure the card reports for the easy level, well above chance (1/9)."""
    metrics = json.loads((default_weights_dir("sudoku") / "metrics.json").read_text())
    easy = next(r for r in metrics["evaluation"]["results"] if r["set"] == "easy")
    model = load_model("sudoku")
    puzzles, solutions = sudoku_level_set("easy", 20, metrics["evaluation"]["seed"])
    items = [PuzzleItem(p, s) for p, s in zip(puzzles, solutions)]
    preds, _, _ = run_model(model, encode_items("sudoku", items), None, False)
    blanks = puzzles == 0
    decoded = np.stack([decode_prediction("sudoku", p, item) for p, item in zip(preds, items)])
    cell_accuracy = float(((decoded == solutions) & blanks).sum() / blanks.sum())
    assert (decoded == solutions).reshape(len(items), -1).all(axis=1).sum() >= 3
    assert cell_accuracy > 0.2
    assert abs(cell_accuracy - easy["cell_accuracy"]) < 0.1


@pytest.mark.skipif("maze" not in SHIPPED, reason="no maze weights shipped")
def test_shipped_maze_model_reproduces_its_card_on_fixed_mazes():
    """On 20 fixed mazes of the card's first (smallest) size the model solves some exactly, and
    exact and open-cell accuracy stay near the card's figures."""
    from hrm_tui.evaluation import evaluate_sets, sets_for

    metrics = json.loads((default_weights_dir("maze") / "metrics.json").read_text())
    first = metrics["evaluation"]["results"][0]
    size = first["set"].split("x")[0]
    sets = sets_for("maze", None, "", size, 20, metrics["evaluation"]["seed"])
    result = evaluate_sets("maze", load_model("maze"), sets, None, False)[0]
    assert result["exact_accuracy"] > 0
    assert abs(result["exact_accuracy"] - first["exact_accuracy"]) < 0.25
    assert abs(result["cell_accuracy"] - first["cell_accuracy"]) < 0.1


@pytest.mark.parametrize("kind", SHIPPED)
def test_a_cards_recipe_comparison_is_reproduced_from_the_logs_it_ships(kind):
    """The card says `hrm compare weights/KIND/runs/*` prints its table: those logs must ship too."""
    from test_reliability_support import hrm

    directory = default_weights_dir(kind)
    card = (directory / "card.md").read_text()
    if "## Recipes compared" not in card:
        pytest.skip(f"the {kind} card compares no recipes")
    section = card.split("## Recipes compared", 1)[1].split("\n\n")
    table = next(block for block in section if block.startswith("| run |")).splitlines()
    names = [line.split("|")[1].strip() for line in table[2:]]  # after header and rule, in the card's order
    assert sorted(names) == sorted(run.name for run in (directory / "runs").iterdir())
    compared = hrm("compare", *[directory / "runs" / name for name in names], "--markdown")
    assert compared.returncode == 0, compared.stderr
    assert compared.stdout.strip() in card
