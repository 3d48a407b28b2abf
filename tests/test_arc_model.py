"""ARC models' canvas and views (hrm_tui.arc.model), the training plan and source
(hrm_tui.arc.training) and pass@2 scoring (hrm_tui.arc.solving.score); no model runs here."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hrm_tui.arc.model import ArcModelInfo, View, blank_views, decode, encode, full_canvas, make_views
from hrm_tui.arc.evaluation import score
from hrm_tui.arc.solving import ArcAnswer, padded_attempts
from hrm_tui.arc.training import ArcSource, TaskData, encode_examples, plan_tasks
from models.config import HRMConfig
from puzzles import arc
from puzzles.arc.task import Pair
from puzzles.errors import PuzzleError


def grid(h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 10, (h, w)).astype(np.uint8)


@settings(max_examples=60, deadline=None)
@given(canvas=st.integers(2, 30), data=st.data())
def test_a_cropped_canvas_round_trips_every_grid_that_fits(canvas, data):
    h = data.draw(st.integers(1, canvas))
    w = data.draw(st.integers(1, canvas))
    offset = (data.draw(st.integers(0, canvas - h)), data.draw(st.integers(0, canvas - w)))
    g = grid(h, w, seed=h * 31 + w)
    tokens = encode(g, canvas, offset)
    assert tokens.shape == (canvas * canvas,)
    np.testing.assert_array_equal(decode(tokens, canvas, offset), g)


def test_the_full_canvas_is_the_puzzles_encoding():
    g = grid(7, 4)
    np.testing.assert_array_equal(encode(g, 30), arc.encode_grid(g))
    np.testing.assert_array_equal(full_canvas(encode(g, 30), 30), arc.encode_grid(g))


def test_a_grid_reaching_the_canvas_edge_needs_no_marker_but_a_short_one_does():
    edge, short = grid(4, 4), grid(3, 4)
    assert (encode(edge, 4) >= 2).all()  # 4x4 fills a 4x4 canvas
    tokens = encode(short, 4).reshape(4, 4)
    assert (tokens[3] == arc.tokens.END).all()
    broken = tokens.copy()
    broken[3, 1] = arc.tokens.PAD
    with pytest.raises(PuzzleError, match="end-of-grid row"):
        decode(broken.reshape(-1), 4)


def test_grids_larger_than_the_canvas_are_refused_in_one_line():
    with pytest.raises(PuzzleError, match="5x3 grid does not fit this model's 4x4 canvas"):
        encode(grid(5, 3), 4)


def test_views_survive_config_json():
    views = make_views(np.random.default_rng(1), 3, first_identifier=5)
    assert [v.identifier for v in views] == [5, 6, 7, 8] and views[0].transform is arc.IDENTITY
    info = ArcModelInfo(6, {"abc": views})
    config = HRMConfig(puzzle_kind="arc", vocab_size=12, seq_len=36, num_puzzle_identifiers=9,
                       hidden_size=32, num_heads=2, puzzle_emb_ndim=32, extra=info.to_extra())
    back = ArcModelInfo.from_config(HRMConfig.from_dict(config.to_dict()))
    assert back.canvas == 6 and config.extra["task_ids"] == {"abc": 5}
    g = grid(2, 5)
    for a, b in zip(views, back.task_views["abc"]):
        assert a.identifier == b.identifier
        np.testing.assert_array_equal(a.transform.apply(g), b.transform.apply(g))
    assert back.views_for("unknown")[1] is False
    assert [v.identifier for v in blank_views()] == [0] * 8


def test_a_non_square_sequence_is_not_an_arc_canvas():
    config = HRMConfig(puzzle_kind="arc", vocab_size=12, seq_len=40, hidden_size=32, num_heads=2, puzzle_emb_ndim=32)
    with pytest.raises(PuzzleError, match="not a square ARC canvas"):
        ArcModelInfo.from_config(config)


def test_plan_gives_each_task_view_its_own_identifier_and_skips_what_does_not_fit():
    small = Pair(grid(2, 3), grid(3, 2))
    big = Pair(grid(6, 6), grid(2, 2))
    tasks = [TaskData("a", (small, big), held_out=(small,)), TaskData("b", (big,)),
             TaskData("c", (small,), must_fit=(grid(7, 1),)), TaskData("d", (small, small))]
    plan = plan_tasks(tasks, canvas=5, augment=2, seed=0)
    assert plan.skipped == ["b", "c"]
    assert [v.identifier for v in plan.info.task_views["a"]] == [1, 2, 3]
    assert [v.identifier for v in plan.info.task_views["d"]] == [4, 5, 6]
    assert plan.num_puzzle_identifiers == 7
    assert len(plan.examples) == 3 * 1 + 3 * 2  # the 6x6 pair of "a" is dropped
    assert [ex.identifier for ex in plan.held_out] == [1]
    identity = [ex for ex in plan.examples if ex.identifier == 1]
    assert not any(ex.translate for ex in identity) and all(ex.translate for ex in plan.examples if ex.identifier == 2)


def test_source_batches_are_reproducible_and_ignore_the_pad():
    pairs = tuple(Pair(grid(2, 2, s), grid(3, 1, s)) for s in range(4))
    plan = plan_tasks([TaskData("a", pairs)], canvas=6, augment=3, seed=0)
    source = ArcSource(plan.examples, 6, batch_size=8, seed=3)
    source.next_batch()
    state = source.state()
    first = source.next_batch()
    source.restore(state)
    again = source.next_batch()
    for key in first:
        np.testing.assert_array_equal(first[key], again[key])
    assert first["inputs"].shape == (8, 36) and first["inputs"].dtype == np.int32
    assert (first["labels"] == -100).any() and not (first["labels"] == 0).any()
    # Every label row decodes (at its translation) to its view of the output.
    batch = encode_examples(plan.examples[:1], 6)
    labels = np.where(batch["labels"][0] == -100, 0, batch["labels"][0])
    np.testing.assert_array_equal(decode(labels, 6), pairs[0].output)


def answer(task, correct, index=0):
    expected = grid(2, 2, 1)
    attempt = expected if correct else grid(2, 2, 2)
    return ArcAnswer(task, index, grid(2, 2, 3), padded_attempts([attempt], grid(2, 2, 3)), 1, 8, True, 4, expected)


def test_pass_at_2_averages_test_inputs_within_a_task_then_tasks():
    answers = [answer("a", True), answer("a", False, 1), answer("b", False), answer("c", True)]
    summary = score(answers)
    assert summary["tasks"] == 3 and summary["test_inputs"] == 4
    assert summary["pass_at_2"] == pytest.approx((0.5 + 0 + 1) / 3)
    assert summary["solved"] == {"a": 0.5, "c": 1.0}


def test_the_second_attempt_counts_and_attempts_are_always_two():
    expected = grid(3, 3, 5)
    a = ArcAnswer("t", 0, grid(3, 3, 6), padded_attempts([grid(3, 3, 7), expected], grid(3, 3, 6)), 2, 8, True, 4,
                   expected)
    assert a.correct and len(a.record()["attempts"]) == 2
    assert len(padded_attempts([], grid(1, 1))) == 2
    assert "correct" not in ArcAnswer("t", 0, grid(1, 1), padded_attempts([], grid(1, 1)), 0, 0, False, 4).record()
    assert View.from_json(View(3, arc.IDENTITY).to_json()).identifier == 3


def test_evaluation_tasks_contribute_only_their_demonstrations():
    from hrm_tui.arc.training import collection_tasks
    from puzzles.arc.task import load_collection

    training, evaluation = load_collection("arc1")
    data = {t.name: t for t in collection_tasks("arc1")}
    assert len(data) == len(training) + len(evaluation) == 800
    for task in evaluation:
        learned = data[task.name]
        assert learned.held_out == () and len(learned.pairs) == len(task.train)
        for mine, theirs in zip(learned.pairs, task.train):
            np.testing.assert_array_equal(mine.output, theirs.output)
        assert [g.shape for g in learned.must_fit] == [p.input.shape for p in task.test]
    for task in training:  # their test pairs are held out for evaluation, not learned
        assert len(data[task.name].pairs) == len(task.train) and len(data[task.name].held_out) == len(task.test)
