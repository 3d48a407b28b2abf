"""Issue 8, the bad-input matrix: every CLI entry point fed wrong arguments, broken Sudoku,
maze and ARC files, wrong encodings, oversized and special files, and corrupt weights.

Every case runs the real `hrm` in a subprocess (all of them concurrently, once per module)
and must exit 2 with exactly one stderr line, `error: ...`, containing the words that name
the problem, and no traceback. A few valid inputs run alongside as controls.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import struct
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from test_reliability_support import MAZE, PUZZLE, SOLUTION, error_lines, hrm, hrm_many, tiny_config, write_tiny_weights

MAX_INPUT_BYTES = 64 * 1024 * 1024  # hrm_tui.solving.MAX_INPUT_BYTES, the documented limit
ARC_CLI = importlib.util.find_spec("hrm_tui.arc.solving") is not None


def _arc(train=None, test=None, **extra) -> str:
    task = {"train": train if train is not None else [{"input": [[1, 2]], "output": [[2, 1]]}],
            "test": test if test is not None else [{"input": [[3, 4]]}], **extra}
    return json.dumps(task)


def _maze_grid(height: int, width: int) -> str:
    rows = ["#" * width] + ["#" + " " * (width - 2) + "#" for _ in range(height - 2)] + ["#" * width]
    rows[1] = "#S" + " " * (width - 4) + "G#"
    return "\n".join(rows)


class Evil:
    """Unpickling this creates a marker file: proof that a loader unpickled something."""

    marker = ""

    def __reduce__(self):
        return (open, (self.marker, "w"))


# name -> file contents (str is written as UTF-8, bytes as they are)
FILES = {
    # Sudoku
    "s_ok.txt": f"{PUZZLE},{SOLUTION}\n{PUZZLE.replace('.', '0')}\n",
    "s_crlf.txt": f"# made on Windows\r\n{PUZZLE}\r\n",
    "s_empty.txt": b"",
    "s_blank.txt": "\n   \n\n",
    "s_comments.txt": "# nothing but a comment\n",
    "s_short.txt": f"{PUZZLE}\n123\n",
    "s_long.txt": "1" * 82 + "\n",
    "s_badchar.txt": PUZZLE[:40] + "x" + PUZZLE[41:] + "\n",
    "s_row_dup.txt": "11" + "." * 79 + "\n",
    "s_col_dup.txt": "1" + "." * 8 + "1" + "." * 71 + "\n",
    "s_box_dup.txt": "1" + "." * 9 + "1" + "." * 70 + "\n",
    "s_unsolvable.txt": "12345678." + "........9" + "." * 63 + "\n",
    "s_bad_solution.txt": f"{PUZZLE},{SOLUTION[1] + SOLUTION[0] + SOLUTION[2:]}\n",
    "s_short_solution.txt": f"{PUZZLE},123\n",
    "s_fields.txt": f"{PUZZLE},{SOLUTION},extra\n",
    "s_binary.bin": np.random.default_rng(8).bytes(4096),
    "s_nul.txt": (PUZZLE + "\x00\n").encode(),
    "s_utf16.txt": (PUZZLE + "\n").encode("utf-16"),
    "s_utf16be.txt": (PUZZLE + "\n").encode("utf-16-be"),
    "s_utf32.txt": (PUZZLE + "\n").encode("utf-32"),
    "s_latin1.txt": "# résolu à la main\n".encode("latin-1") + PUZZLE.encode(),
    "s_cp1252.txt": "# \u201cfrom a newspaper\u201d\n".encode("cp1252") + PUZZLE.encode(),
    "s_bom.txt": "\ufeff" + PUZZLE + "\n",
    "s_long_line.txt": "1" * 1_000_000,
    # Mazes
    "m_ok.txt": MAZE + "\n",
    "m_no_start.txt": MAZE.replace("S", " "),
    "m_no_goal.txt": MAZE.replace("G", " "),
    "m_two_starts.txt": MAZE.replace("#S    #", "#S   S#"),
    "m_unreachable.txt": "#######\n#S #  #\n#  # G#\n#######",
    "m_ragged.txt": "#######\n#S  G#\n#######",
    "m_badchar.txt": MAZE.replace("# ### #", "# #x# #"),
    "m_tab.txt": MAZE.replace("# ### #", "#\t### #"),
    "m_oversized.txt": _maze_grid(31, 31),
    "m_huge.txt": _maze_grid(200, 200),
    "m_second_bad.txt": MAZE + "\n\n" + MAZE.replace("G", " "),
    "m_empty.txt": b"",
    "m_blank.txt": "\n\n\n",
    "m_binary.bin": np.random.default_rng(9).bytes(2048),
    "m_utf16.txt": MAZE.encode("utf-16"),
    "m_latin1.txt": MAZE.replace("#S", "\u00e9S").encode("latin-1"),
    # ARC task JSON
    "a_malformed.json": '{"train": [',
    "a_list.json": "[]",
    "a_no_train.json": json.dumps({"test": [{"input": [[1]]}]}),
    "a_no_test.json": json.dumps({"train": [{"input": [[1]], "output": [[1]]}]}),
    "a_empty_train.json": _arc(train=[]),
    "a_missing_output.json": _arc(train=[{"input": [[1]]}]),
    "a_ragged.json": _arc(test=[{"input": [[1, 2], [3]]}]),
    "a_colour_10.json": _arc(test=[{"input": [[10]]}]),
    "a_colour_negative.json": _arc(test=[{"input": [[-1]]}]),
    "a_colour_string.json": _arc(test=[{"input": [["3"]]}]),
    "a_colour_float.json": _arc(test=[{"input": [[1.0]]}]),
    "a_colour_bool.json": _arc(test=[{"input": [[True]]}]),
    "a_oversized.json": _arc(test=[{"input": [[0] * 31] * 31}]),
    "a_no_rows.json": _arc(test=[{"input": []}]),
    "a_empty_row.json": _arc(test=[{"input": [[]]}]),
    "a_deep.json": "[" * 100_000 + "]" * 100_000,
    "a_big_int.json": _arc().replace("[[3, 4]]", "[[" + "9" * 5000 + "]]"),
    "a_utf16.json": _arc().encode("utf-16"),
    "a_binary.json": np.random.default_rng(10).bytes(1024),
    "x_eval_list.json": "[1, 2]",
}


def _build_inputs(root: Path) -> dict[str, str]:
    paths = {}
    for name, content in FILES.items():
        path = root / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        paths[name.rsplit(".", 1)[0]] = str(path)
    huge = root / "s_huge.txt"  # sparse: 1 TiB on paper, nothing on disk; reading it would never end
    with open(huge, "wb") as fh:
        fh.truncate(2**40)
    just_over = root / "s_just_over.txt"
    with open(just_over, "wb") as fh:
        fh.truncate(MAX_INPUT_BYTES + 1)
    fifo = root / "fifo"
    os.mkfifo(fifo)  # opening it for reading would block forever
    paths.update(s_huge=str(huge), s_just_over=str(just_over), fifo=str(fifo), dir=str(root),
                 missing=str(root / "no-such-file.txt"), no_dir=str(root / "no-such-dir" / "out.json"))
    return paths


def _build_weights(root: Path) -> dict[str, str]:
    """A valid tiny weights directory per kind, and one broken copy per fault."""
    import mlx.core as mx

    from models.checkpoint import RunDir, model_arrays
    from models.hrm import HRM

    good = write_tiny_weights(root / "good")
    write_tiny_weights(root / "maze_good", "maze")
    blob = (good / "model.safetensors").read_bytes()
    config = json.loads((good / "config.json").read_text())

    def variant(name: str, weights: bytes | None = blob, config_text: str | None = json.dumps(config)) -> None:
        directory = root / name
        directory.mkdir()
        if weights is not None:
            (directory / "model.safetensors").write_bytes(weights)
        if config_text is not None:
            (directory / "config.json").write_text(config_text)

    variant("empty_dir", None, None)
    variant("no_safetensors", None)
    variant("no_config", config_text=None)
    variant("zero_bytes", b"")
    variant("truncated", blob[: len(blob) // 2])
    variant("truncated_header", blob[:40])
    Evil.marker = str(root / "UNPICKLED")
    variant("pickle", pickle.dumps({"embed_tokens.weight": Evil()}))
    zipped = root / "torch.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({"w": 1}))
    variant("torch_zip", zipped.read_bytes())
    variant("random_bytes", np.random.default_rng(11).bytes(len(blob)))
    header = json.dumps({"a": {"dtype": "F32", "shape": [10**6, 10**6], "data_offsets": [0, 4 * 10**12]}}).encode()
    variant("lying_header", struct.pack("<Q", len(header)) + header + b"\0" * 64)
    variant("wrong_shapes", config_text=json.dumps({**config, "hidden_size": 64}))
    variant("huge_config", config_text=json.dumps({**config, "hidden_size": 1_000_000, "num_heads": 1000}))
    variant("bad_json", config_text="{\"hidden_size\": 32,")
    variant("config_list", config_text="[]")
    variant("unknown_field", config_text=json.dumps({**config, "colour": "blue"}))
    variant("heads_zero", config_text=json.dumps({**config, "num_heads": 0}))
    variant("string_size", config_text=json.dumps({**config, "hidden_size": "32"}))
    variant("other_kind_name", config_text=json.dumps({**config, "puzzle_kind": "chess"}))
    write_tiny_weights(root / "vocab_6", vocab_size=6)  # consistent files, not Sudoku's 11 tokens
    write_tiny_weights(root / "seq_900", seq_len=900, grid_shape=(30, 30))  # not Sudoku's 81 cells
    swapped = HRM(tiny_config(H_layers=2, L_layers=1))  # same number of values, other names
    variant("swapped_layers", config_text=json.dumps({**config, "H_layers": 1, "L_layers": 2}), weights=None)
    mx.save_safetensors(str(root / "swapped_layers" / "model.safetensors"), model_arrays(swapped))
    for name, value in (("nan", float("nan")), ("inf", float("inf"))):
        arrays = model_arrays(HRM(tiny_config()))
        arrays["lm_head.weight"] = mx.full(arrays["lm_head.weight"].shape, value)
        variant(name, None)
        mx.save_safetensors(str(root / name / "model.safetensors"), arrays)
    (root / "config_is_dir").mkdir()
    (root / "config_is_dir" / "config.json").mkdir()
    (root / "config_is_dir" / "model.safetensors").write_bytes(blob)

    # training run directories
    (root / "run_empty" / "checkpoints").mkdir(parents=True)
    arrays = {"model": model_arrays(HRM(tiny_config())), "optimizer": {}}
    state = {"step": 1, "model_config": tiny_config().to_dict(), "rng": {}, "source": {}}
    for name in ("run_bad_state", "run_no_model", "run_truncated", "run_ok"):
        RunDir(root / name).save(1, arrays, state)
    ckpt = Path("checkpoints") / "step-00000001"
    (root / "run_bad_state" / ckpt / "state.json").write_text("{\"step\": ")
    (root / "run_no_model" / ckpt / "model.safetensors").unlink()
    truncated = root / "run_truncated" / ckpt / "model.safetensors"
    truncated.write_bytes(truncated.read_bytes()[:1000])
    for step in (1, 2):  # damaged on disk after it was written: the earlier one is named
        RunDir(root / "run_damaged_latest").save(step, arrays, {**state, "step": step})
    damaged = root / "run_damaged_latest" / "checkpoints" / "step-00000002" / "optimizer.safetensors"
    damaged.write_bytes(b"\0" * 100)
    names = ["good", "maze_good", "empty_dir", "no_safetensors", "no_config", "zero_bytes", "truncated",
             "truncated_header", "pickle", "torch_zip", "random_bytes", "lying_header", "wrong_shapes",
             "huge_config", "bad_json", "config_list", "unknown_field", "heads_zero", "string_size",
             "other_kind_name", "vocab_6", "seq_900", "swapped_layers", "nan", "inf", "config_is_dir", "run_empty",
             "run_bad_state", "run_no_model", "run_truncated", "run_ok", "run_damaged_latest"]
    return {f"w_{name}": str(root / name) for name in names} | {"w_missing": str(root / "nope"),
                                                                 "unpickled_marker": Evil.marker}


T = "train sudoku --run {dir}/runs/{case} --steps 2 --hidden-size 32 --heads 2 --h-layers 1 --l-layers 1 --eval-size 2"
S = "solve sudoku " + PUZZLE + " --weights {w_good}"

# (case id, arguments with {placeholders}, words the one error line must contain)
CASES = [
    # -- arguments -----------------------------------------------------------------------
    ("no_command_kind", "solve", "Missing argument 'kind'"),
    ("unknown_command", "frobnicate", "No such command 'frobnicate'"),
    ("unknown_kind", "solve chess " + PUZZLE, "'chess' is not one of"),
    ("unknown_option", "solve sudoku " + PUZZLE + " --frobnicate", "No such option"),
    ("bad_int_option", S + " --max-segments many", "--max-segments"),
    ("puzzle_short", "solve sudoku 123", "expected 81 cells, got 3"),
    ("puzzle_long", "solve sudoku " + "1" * 82, "expected 81 cells, got 82"),
    ("puzzle_letters", "solve sudoku " + "x" * 81, "bad character 'x' at position 1"),
    ("puzzle_unicode_digits", "solve sudoku " + "\u0661" * 81, "bad character"),
    ("puzzle_escape_sequence", "solve sudoku \x1b[31m" + PUZZLE[5:], "bad character '\\x1b'"),
    ("puzzle_empty", ["solve", "sudoku", ""], "expected 81 cells, got 0"),
    ("puzzle_row_dup", "solve sudoku 11" + "." * 79, "duplicate 1 in row 1"),
    ("puzzle_column_dup", "solve sudoku 1" + "." * 8 + "1" + "." * 71, "duplicate 1 in column 1"),
    ("puzzle_box_dup", "solve sudoku 1" + "." * 9 + "1" + "." * 70, "duplicate 1 in box 1"),
    ("puzzle_unsolvable", "solve sudoku 12345678." + "........9" + "." * 63, "no solution"),
    ("puzzle_and_file", S + " --file {s_ok}", "either a PUZZLE"),
    ("neither_puzzle_nor_file", "solve sudoku", "either a PUZZLE"),
    ("maze_as_argument", "solve maze ####", "--file"),
    ("max_segments_zero", S + " --max-segments 0", "--max-segments"),
    ("batch_size_zero", S + " --batch-size 0", "--batch-size"),
    ("record_bad_suffix", S + " --record out.gif", ".svg or .cast"),
    ("record_no_dir", S + " --record {dir}/no-such-dir/solve.svg", "does not exist"),
    # -- Sudoku files ------------------------------------------------------------------
    ("sudoku_missing_file", "solve sudoku --file {missing}", "no such file"),
    ("sudoku_directory", "solve sudoku --file {dir}", "is a directory"),
    ("sudoku_fifo", "solve sudoku --file {fifo}", "not a regular file"),
    ("sudoku_device", "solve sudoku --file /dev/zero", "not a regular file"),
    ("sudoku_huge_sparse", "solve sudoku --file {s_huge}", "the limit is 64 MiB"),
    ("sudoku_just_over_limit", "solve sudoku --file {s_just_over}", "the limit is 64 MiB"),
    ("sudoku_empty", "solve sudoku --file {s_empty}", "is empty"),
    ("sudoku_blank_lines", "solve sudoku --file {s_blank}", "holds no puzzles"),
    ("sudoku_only_comments", "solve sudoku --file {s_comments}", "holds no puzzles"),
    ("sudoku_short_line", "solve sudoku --file {s_short}", "line 2: expected 81 cells, got 3"),
    ("sudoku_long_line", "solve sudoku --file {s_long}", "expected 81 cells, got 82"),
    ("sudoku_megabyte_line", "solve sudoku --file {s_long_line}", "expected 81 cells, got 1000000"),
    ("sudoku_bad_character", "solve sudoku --file {s_badchar}", "bad character 'x' at position 41"),
    ("sudoku_row_dup", "solve sudoku --file {s_row_dup}", "puzzle 1: duplicate 1 in row 1"),
    ("sudoku_column_dup", "solve sudoku --file {s_col_dup}", "duplicate 1 in column 1"),
    ("sudoku_box_dup", "solve sudoku --file {s_box_dup}", "duplicate 1 in box 1"),
    ("sudoku_unsolvable", "solve sudoku --file {s_unsolvable}", "puzzle 1: the givens admit no solution"),
    ("sudoku_wrong_solution", "solve sudoku --file {s_bad_solution}", "solution does not solve the puzzle"),
    ("sudoku_short_solution", "solve sudoku --file {s_short_solution}", "solution: expected 81 cells"),
    ("sudoku_three_fields", "solve sudoku --file {s_fields}", "3 fields"),
    ("sudoku_binary", "solve sudoku --file {s_binary}", "NUL bytes"),
    ("sudoku_nul", "solve sudoku --file {s_nul}", "NUL bytes"),
    ("sudoku_utf16", "solve sudoku --file {s_utf16}", "is UTF-16 text; save it as UTF-8"),
    ("sudoku_utf16_no_bom", "solve sudoku --file {s_utf16be}", "NUL bytes"),
    ("sudoku_utf32", "solve sudoku --file {s_utf32}", "is UTF-32 text"),
    ("sudoku_latin1", "solve sudoku --file {s_latin1}", "not UTF-8 text: byte 0xe9 at line 1, column 4"),
    ("sudoku_cp1252", "solve sudoku --file {s_cp1252}", "not UTF-8 text: byte 0x93"),
    # -- maze files ----------------------------------------------------------------------
    ("maze_missing_file", "solve maze --file {missing}", "no such file"),
    ("maze_empty", "solve maze --file {m_empty}", "is empty"),
    ("maze_blank_lines", "solve maze --file {m_blank}", "holds no mazes"),
    ("maze_no_start", "solve maze --file {m_no_start}", "no S (start) cell"),
    ("maze_no_goal", "solve maze --file {m_no_goal}", "no G (goal) cell"),
    ("maze_two_starts", "solve maze --file {m_two_starts}", "2 S (start) cells"),
    ("maze_unreachable", "solve maze --file {m_unreachable}", "no path from S to G"),
    ("maze_ragged", "solve maze --file {m_ragged}", "row 2 has 6 cells, expected 7"),
    ("maze_bad_character", "solve maze --file {m_badchar}", "unknown character 'x' at r3c4"),
    ("maze_tab", "solve maze --file {m_tab}", "unknown character '\\t'"),
    ("maze_oversized", "solve maze --file {m_oversized}", "31x31; the model's canvas is 30x30"),
    ("maze_huge", "solve maze --file {m_huge}", "200x200"),
    ("maze_second_bad", "solve maze --file {m_second_bad}", "maze 2"),
    ("maze_binary", "solve maze --file {m_binary}", "NUL bytes"),
    ("maze_utf16", "solve maze --file {m_utf16}", "UTF-16"),
    ("maze_latin1", "solve maze --file {m_latin1}", "not UTF-8 text: byte 0xe9 at line 2"),
    ("maze_sudoku_weights", "solve maze --file {m_ok} --weights {w_good}", "holds a sudoku model, not a maze model"),
    # -- ARC task files ------------------------------------------------------------------
    ("arc_missing_file", "solve arc --file {missing}", "no such file"),
    ("arc_empty", "solve arc --file {s_empty}", "is empty"),
    ("arc_huge_sparse", "solve arc --file {s_huge}", "the limit is 64 MiB"),
    ("arc_malformed_json", "solve arc --file {a_malformed}", "malformed JSON"),
    ("arc_not_an_object", "solve arc --file {a_list}", "expected a JSON object"),
    ("arc_no_train", "solve arc --file {a_no_train}", "missing 'train'"),
    ("arc_no_test", "solve arc --file {a_no_test}", "missing 'test'"),
    ("arc_empty_train", "solve arc --file {a_empty_train}", "train: expected a non-empty list"),
    ("arc_missing_output", "solve arc --file {a_missing_output}", "missing 'output'"),
    ("arc_ragged", "solve arc --file {a_ragged}", "row 2 has 1 cells, expected 2"),
    ("arc_colour_10", "solve arc --file {a_colour_10}", "is 10, expected a colour 0-9"),
    ("arc_colour_negative", "solve arc --file {a_colour_negative}", "is -1, expected a colour"),
    ("arc_colour_string", "solve arc --file {a_colour_string}", "expected a colour"),
    ("arc_colour_float", "solve arc --file {a_colour_float}", "is 1.0, expected a colour"),
    ("arc_colour_bool", "solve arc --file {a_colour_bool}", "is True, expected a colour"),
    ("arc_oversized", "solve arc --file {a_oversized}", "31 rows, at most 30"),
    ("arc_no_rows", "solve arc --file {a_no_rows}", "non-empty list of rows"),
    ("arc_empty_row", "solve arc --file {a_empty_row}", "row 1 is not a non-empty list"),
    ("arc_deeply_nested", "solve arc --file {a_deep}", "JSON"),
    ("arc_big_integer", "solve arc --file {a_big_int}", "JSON"),
    ("arc_utf16", "solve arc --file {a_utf16}", "UTF-16"),
    ("arc_binary", "solve arc --file {a_binary}", "a_binary.json"),
    # -- weights -------------------------------------------------------------------------
    ("weights_missing_dir", S.replace("{w_good}", "{w_missing}"), "does not exist"),
    ("weights_is_a_file", S.replace("{w_good}", "{s_ok}"), "is a file"),
    ("weights_empty_dir", S.replace("{w_good}", "{w_empty_dir}"), "missing config.json"),
    ("weights_no_safetensors", S.replace("{w_good}", "{w_no_safetensors}"), "missing"),
    ("weights_no_config", S.replace("{w_good}", "{w_no_config}"), "missing config.json"),
    ("weights_zero_bytes", S.replace("{w_good}", "{w_zero_bytes}"), "not a safetensors file"),
    ("weights_truncated", S.replace("{w_good}", "{w_truncated}"), "is truncated"),
    ("weights_truncated_header", S.replace("{w_good}", "{w_truncated_header}"), "not a safetensors file"),
    ("weights_pickle", S.replace("{w_good}", "{w_pickle}"), "is a Python pickle, not safetensors"),
    ("weights_torch_zip", S.replace("{w_good}", "{w_torch_zip}"), "zip archive"),
    ("weights_random_bytes", S.replace("{w_good}", "{w_random_bytes}"), "not a safetensors file"),
    ("weights_lying_header", S.replace("{w_good}", "{w_lying_header}"), "is truncated"),
    ("weights_wrong_shapes", S.replace("{w_good}", "{w_wrong_shapes}"), "does not match its config"),
    ("weights_huge_config", S.replace("{w_good}", "{w_huge_config}"), "does not match its config"),
    ("weights_swapped_layers", S.replace("{w_good}", "{w_swapped_layers}"), "does not match its config"),
    ("weights_config_not_json", S.replace("{w_good}", "{w_bad_json}"), "is not valid JSON"),
    ("weights_config_list", S.replace("{w_good}", "{w_config_list}"), "must be a JSON object"),
    ("weights_config_unknown_field", S.replace("{w_good}", "{w_unknown_field}"), "unknown config fields: colour"),
    ("weights_config_heads_zero", S.replace("{w_good}", "{w_heads_zero}"), "invalid model config"),
    ("weights_config_string_size", S.replace("{w_good}", "{w_string_size}"), "hidden_size is '32', which is not a valid value"),
    ("weights_config_is_dir", S.replace("{w_good}", "{w_config_is_dir}"), "config.json"),
    ("weights_nan", S.replace("{w_good}", "{w_nan}"), "lm_head.weight contains NaN or inf"),
    ("weights_inf", S.replace("{w_good}", "{w_inf}"), "lm_head.weight contains NaN or inf"),
    ("weights_other_kind", S.replace("{w_good}", "{w_maze_good}"), "holds a maze model, not a sudoku model"),
    ("weights_unknown_kind", S.replace("{w_good}", "{w_other_kind_name}"), "holds a chess model"),
    ("weights_vocab_mismatch", S.replace("{w_good}", "{w_vocab_6}"), "vocab"),
    ("weights_sequence_mismatch", S.replace("{w_good}", "{w_seq_900}"), "81"),
    ("weights_run_without_checkpoint", S.replace("{w_good}", "{w_run_empty}"), "has no checkpoint yet"),
    ("weights_run_bad_state", S.replace("{w_good}", "{w_run_bad_state}"), "no readable state.json"),
    ("weights_run_no_model", S.replace("{w_good}", "{w_run_no_model}"), "has no model.safetensors"),
    ("weights_run_truncated", S.replace("{w_good}", "{w_run_truncated}"), "is truncated"),
    # -- hrm eval ------------------------------------------------------------------------
    ("eval_count_zero", "eval sudoku --weights {w_good} --count 0", "--count must be >= 1"),
    ("eval_unknown_level", "eval sudoku --weights {w_good} --levels impossible", "unknown level 'impossible'"),
    ("eval_bad_size", "eval maze --weights {w_maze_good} --sizes big", "bad maze set 'big'"),
    ("eval_bad_style", "eval maze --weights {w_maze_good} --sizes 15-round", "unknown maze style 'round'"),
    ("eval_size_too_small", "eval maze --weights {w_maze_good} --sizes 3", "between 5 and 30, got 3"),
    ("eval_size_too_big", "eval maze --weights {w_maze_good} --sizes 31", "between 5 and 30, got 31"),
    ("eval_bad_file", "eval sudoku --weights {w_good} --file {s_badchar}", "bad character"),
    ("eval_maze_bad_file", "eval maze --weights {w_maze_good} --file {m_unreachable}", "no path from S to G"),
    ("eval_json_no_dir", "eval sudoku --weights {w_good} --json {no_dir}", "does not exist"),
    ("eval_json_is_dir", "eval sudoku --weights {w_good} --json {dir}", "is a directory"),
    ("eval_corrupt_weights", "eval sudoku --weights {w_truncated} --levels easy --count 1", "is truncated"),
    # -- hrm train ------------------------------------------------------------------------
    ("train_steps_zero", T.replace("--steps 2", "--steps 0"), "--steps must be positive"),
    ("train_steps_text", T.replace("--steps 2", "--steps two"), "--steps"),
    ("train_batch_zero", T + " --batch-size 0", "--batch-size must be positive"),
    ("train_lr_negative", T + " --lr -1", "--lr must be positive"),
    ("train_lr_nan", T + " --lr nan", "--lr must be a finite number"),
    ("train_lr_inf", T + " --lr inf", "--lr must be a finite number"),
    ("train_heads_zero", T + " --heads 0", "--heads"),
    ("train_hidden_zero", T + " --hidden-size 0", "--hidden-size"),
    ("train_odd_head_dim", T + " --hidden-size 34", "head dimension must be even"),
    ("train_grid_rope_head_dim", T + " --pos-encodings rope2d --hidden-size 24 --heads 4", "multiple of 4 for 2-D RoPE"),
    ("train_indivisible_heads", T + " --hidden-size 30 --heads 4", "not divisible by num_heads"),
    ("train_schedule", T + " --schedule sawtooth", "--schedule must be constant or cosine"),
    ("train_ema_one", T + " --ema 1", "--ema must be in [0, 1)"),
    ("train_explore", T + " --explore 2", "--explore must be in [0, 1]"),
    ("train_givens", T + " --givens-min 50 --givens-max 40", "--givens-min"),
    ("train_max_segments", T + " --max-segments 0", "--max-segments must be >= 1"),
    ("train_minutes_zero", T + " --minutes 0", "--minutes must be positive"),
    ("train_loss", T + " --loss hinge", "'hinge' is not one of"),
    ("train_maze_size", "train maze --run {dir}/runs/maze --steps 1 --maze-size 100", "--maze-size"),
    ("train_run_is_file", T.replace("{dir}/runs/{case}", "{s_ok}"), "Not a directory"),
    ("train_existing_no_resume", T.replace("{dir}/runs/{case}", "{w_run_ok}") + " --no-resume", "already has checkpoints"),
    ("train_damaged_checkpoint", T.replace("{dir}/runs/{case}", "{w_run_damaged_latest}"),
     "the earlier checkpoint step-00000001 is intact: remove"),
    ("train_config_changed", T.replace("{dir}/runs/{case}", "{w_run_ok}") + " --hidden-size 64", "different model config"),
    # -- hrm export ----------------------------------------------------------------------
    ("export_not_a_run", "export {w_good} --out {dir}/exported", "not a training run directory"),
    ("export_no_checkpoint", "export {w_run_empty} --out {dir}/exported", "has no checkpoint yet"),
    ("export_truncated", "export {w_run_truncated} --out {dir}/exported", "is truncated"),
    ("export_out_is_file", "export {w_run_ok} --out {s_ok}", "could not write weights"),
    ("export_eval_missing", "export {w_run_ok} --out {dir}/exported --eval {missing}", "no such file"),
    ("export_eval_not_json", "export {w_run_ok} --out {dir}/exported --eval {s_ok}", "not valid JSON"),
    ("export_eval_wrong_shape", "export {w_run_ok} --out {dir}/exported --eval {x_eval_list}", "not a results file"),
]
KNOWN_BUGS: dict[str, str] = {}  # case -> owner and reason, while a reported bug is open
CONTROLS = {
    "sudoku_file": "solve sudoku --file {s_ok} --jsonl --weights {w_good}",
    "sudoku_crlf_file": "solve sudoku --file {s_crlf} --jsonl --weights {w_good}",
    "sudoku_utf8_bom_file": "solve sudoku --file {s_bom} --jsonl --weights {w_good}",
    "maze_file": "solve maze --file {m_ok} --jsonl --weights {w_maze_good}",
    "run_as_weights": S.replace("{w_good}", "{w_run_ok}"),
}


def _args(template, paths: dict[str, str], case: str) -> list[str]:
    if isinstance(template, list):
        return template
    return [part.format(**paths, case=case) for part in template.split(" ")]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    """Every case and control run once, concurrently; case id -> CompletedProcess."""
    root = tmp_path_factory.mktemp("inputs")
    paths = _build_inputs(root) | _build_weights(tmp_path_factory.mktemp("weights"))
    (root / "runs").mkdir()
    runs = {case: _args(template, paths, case) for case, template, _ in CASES if ARC_CLI or not case.startswith("arc_")}
    runs |= {f"control_{name}": _args(template, paths, name) for name, template in CONTROLS.items()}
    start = time.monotonic()
    results = hrm_many(runs)
    results["_seconds"] = time.monotonic() - start
    results["_paths"] = paths
    return results


@pytest.mark.parametrize("case, template, words", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_one_line_error(matrix, case, template, words):
    if case.startswith("arc_") and not ARC_CLI:
        pytest.skip("`hrm solve arc` is not in this checkout")
    result = matrix[case]
    if case in KNOWN_BUGS and result.returncode != 2:
        assert len(error_lines(result)) <= 1 and "Traceback" not in result.stderr, result.stderr
        pytest.xfail(KNOWN_BUGS[case])
    lines = error_lines(result)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and words in lines[0], lines[0]


def test_valid_inputs_next_to_the_bad_ones_still_work(matrix):
    for name in CONTROLS:
        result = matrix[f"control_{name}"]
        assert result.returncode == 0, (name, result.stderr)
    records = [json.loads(line) for line in matrix["control_sudoku_file"].stdout.splitlines()]
    assert len(records) == 2 and all(len(r["prediction"]) == 81 for r in records)
    assert len(matrix["control_sudoku_crlf_file"].stdout.splitlines()) == 1
    prediction = json.loads(matrix["control_maze_file"].stdout)["prediction"]
    assert [len(row) for row in prediction] == [7] * 5


def test_huge_inputs_are_refused_from_their_size_alone(matrix):
    """A 1 TiB sparse file and a FIFO are refused at once: neither is ever read."""
    for case in ("sudoku_huge_sparse", "sudoku_fifo"):
        assert matrix[case].returncode == 2
    # A hang guard, not a speed goal: reading 1 TiB or a FIFO would never finish.
    assert matrix["_seconds"] < 900


def test_no_pickle_is_ever_loaded(matrix):
    assert matrix["weights_pickle"].returncode == 2
    assert not Path(matrix["_paths"]["unpickled_marker"]).exists()


def test_corrupt_weights_leave_the_files_untouched(matrix):
    """Loading never repairs or rewrites what the user pointed at."""
    paths = matrix["_paths"]
    assert Path(paths["w_truncated"], "model.safetensors").stat().st_size > 0
    assert Path(paths["w_bad_json"], "config.json").read_text() == "{\"hidden_size\": 32,"


def test_matrix_size():
    """The figure quoted in docs/reliability.md."""
    assert len(CASES) >= 158


@pytest.mark.parametrize("case", ["puzzle_short", "unknown_kind", "sudoku_latin1", "maze_ragged", "weights_truncated",
                                  "weights_huge_config", "train_lr_nan", "export_eval_not_json"])
def test_fork_server_matches_a_cold_start(matrix, case):
    """The matrix runs forked from a warm server; the same case from a cold
    `python -m hrm_tui` gives the same exit code and the same error line."""
    template = next(t for c, t, _ in CASES if c == case)
    cold = hrm(*_args(template, matrix["_paths"], case + "_cold"))
    assert cold.returncode == matrix[case].returncode
    assert error_lines(cold) == [line.replace(case, case + "_cold") for line in error_lines(matrix[case])]
