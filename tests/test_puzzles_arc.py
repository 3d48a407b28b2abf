"""ARC: task validation, collections, canvas tokens, transforms with inverses, voting."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from puzzles import arc, dihedral
from puzzles.errors import PuzzleError

FAST = settings(max_examples=40, deadline=None)
grids = st.tuples(st.integers(1, 30), st.integers(1, 30)).flatmap(
    lambda shape: hnp.arrays(np.uint8, shape, elements=st.integers(0, 9))
)
TASK = {
    "train": [{"input": [[0, 1], [2, 3]], "output": [[3, 2], [1, 0]]}],
    "test": [{"input": [[4, 5]]}],
}


def test_parse_task_keeps_pairs_and_optional_test_output():
    task = arc.parse_task(TASK, "t")
    assert task.train[0].output.tolist() == [[3, 2], [1, 0]]
    assert task.test[0].output is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.pop("test"), "missing 'test'"),
        (lambda t: t["train"][0].pop("output"), r"train\[0\]: missing 'output'"),
        (lambda t: t["train"][0]["input"].append([1]), r"train\[0\].input: row 3 has 1 cells, expected 2"),
        (lambda t: t["test"][0]["input"][0].__setitem__(1, 10), r"test\[0\].input: cell \(1, 2\) is 10"),
        (lambda t: t["test"][0]["input"][0].__setitem__(0, True), r"cell \(1, 1\) is True"),
        (lambda t: t["test"][0].__setitem__("input", [[0] * 31]), "row 1 has 31 cells, at most 30"),
        (lambda t: t["test"][0].__setitem__("input", [[0]] * 31), "31 rows, at most 30"),
        (lambda t: t.__setitem__("train", []), "train: expected a non-empty list"),
    ],
)
def test_parse_task_errors_name_the_place(change, message):
    task = json.loads(json.dumps(TASK))
    change(task)
    with pytest.raises(PuzzleError, match=message):
        arc.parse_task(task)


def test_read_task_reports_malformed_json(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(PuzzleError, match="bad.json: malformed JSON"):
        arc.read_task(path)
    path.write_text(json.dumps(TASK))
    assert arc.read_task(path).name == "bad"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 12) | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(["train", "test", "input", "output", "x"]), inner, max_size=3),
    max_leaves=30,
)


@FAST
@given(json_values)
def test_parse_task_fuzz_raises_only_puzzle_error(value):
    try:
        arc.parse_task(value)
    except PuzzleError:
        pass


@FAST
@given(st.binary(max_size=200))
def test_read_task_fuzz_raises_only_puzzle_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "task.json"
    path.write_bytes(data)
    with pytest.raises(PuzzleError):
        arc.read_task(path)


@pytest.fixture(scope="module")
def arc1():
    return arc.load_collection("arc1")


def test_collections_keep_splits_apart(arc1):
    training, evaluation = arc1
    assert len(training) == 400 and len(evaluation) == 400
    assert not {t.name for t in training} & {t.name for t in evaluation}
    assert all(p.output is not None for t in evaluation for p in t.test)
    with pytest.raises(PuzzleError, match="unknown ARC collection"):
        arc.load_collection("arc3")


@FAST
@given(grids, st.data())
def test_encode_decode_round_trip_with_translation(grid, data):
    offset = (data.draw(st.integers(0, 30 - grid.shape[0])), data.draw(st.integers(0, 30 - grid.shape[1])))
    tokens = arc.encode_grid(grid, offset)
    assert tokens.shape == (900,) and tokens.dtype == np.int32 and tokens.max() < arc.VOCAB_SIZE
    assert (arc.decode_grid(tokens, offset) == grid).all()


def test_encode_places_end_markers():
    canvas = arc.encode_grid(np.array([[0, 9]], np.uint8)).reshape(30, 30)
    assert canvas[0, :3].tolist() == [2, 11, 1]
    assert canvas[1, :3].tolist() == [1, 1, 0]


def test_encode_rejects_grid_off_canvas():
    with pytest.raises(PuzzleError, match="does not fit"):
        arc.encode_grid(np.zeros((3, 3), np.uint8), (28, 0))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda c: c.__setitem__((0, 0), 0), "no grid"),
        (lambda c: c.__setitem__((1, 1), 0), "holes"),
        (lambda c: c.__setitem__((1, 3), 0), "end-of-grid column"),
        (lambda c: c.__setitem__((3, 0), 0), "end-of-grid row"),
        (lambda c: c.__setitem__((5, 5), 12), "outside the ARC vocabulary"),
    ],
)
def test_decode_rejects_malformed_outputs(damage, message):
    canvas = arc.encode_grid(np.full((3, 3), 4, np.uint8)).reshape(30, 30)
    damage(canvas)
    with pytest.raises(PuzzleError, match=message):
        arc.decode_grid(canvas.reshape(-1))


@FAST
@given(grids, st.integers(0, 2**32 - 1))
def test_transforms_invert_exactly_and_keep_black(grid, seed):
    transform = arc.random_transform(np.random.default_rng(seed))
    moved = transform.apply(grid)
    assert (transform.invert(moved) == grid).all()
    assert ((moved == 0) == (dihedral.transform(grid, transform.k) == 0)).all()
    assert transform.colours[0] == 0
    again = arc.ArcTransform.from_text(transform.to_text())
    assert (again.apply(grid) == moved).all()


@FAST
@given(grids, st.integers(0, 2**32 - 1))
def test_map_back_undoes_augmentation_and_translation(grid, seed):
    rng = np.random.default_rng(seed)
    transform = arc.random_transform(rng)
    view = transform.apply(grid)
    offset = arc.random_offset(rng, [view])
    assert (arc.map_back(arc.encode_grid(view, offset), transform, offset) == grid).all()
    assert arc.map_back(np.zeros(900, np.int32), transform) is None


@FAST
@given(
    st.lists(st.integers(0, 3), min_size=1, max_size=12),
    st.lists(st.floats(0, 1), min_size=12, max_size=12),
)
def test_vote_returns_majority_first(choices, confidences):
    answers = [np.full((2, 2), c, np.uint8) for c in range(4)]
    votes = np.bincount(choices, minlength=4)
    ranked = arc.vote([(answers[c], confidences[i]) for i, c in enumerate(choices)] + [(None, 1.0)])
    assert 1 <= len(ranked) <= 2
    assert votes[int(ranked[0][0, 0])] == votes.max()
    if len(ranked) == 2:
        assert votes[int(ranked[1][0, 0])] <= votes[int(ranked[0][0, 0])]
    counted = arc.ranked_votes([(answers[c], confidences[i]) for i, c in enumerate(choices)])
    assert [count for _, count in counted] == [int(votes[int(grid[0, 0])]) for grid in ranked]


def test_vote_breaks_ties_by_confidence():
    a, b = np.zeros((1, 1), np.uint8), np.ones((1, 1), np.uint8)
    assert arc.vote([(a, 0.2), (b, 0.9)], attempts=1)[0] is b
    assert arc.vote([]) == []


def test_check_answer_messages():
    expected = np.array([[1, 2], [3, 4]], np.uint8)
    assert arc.check_answer(expected, expected.copy()).message == "solved"
    assert arc.check_answer(expected, expected[:1]).message == "size 1x2, expected 2x2"
    assert arc.check_answer(expected, expected * 0).message == "4 cells wrong"
    assert arc.check_answer(expected, None).message == "no well-formed grid"
    assert arc.check_attempts(expected, [expected * 0, expected]).ok
