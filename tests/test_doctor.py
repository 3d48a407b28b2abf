"""`hrm doctor`: runs as a real command, always exits 0, and its JSON says what is installed."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from hrm_tui.commands import doctor

REPO = Path(__file__).resolve().parents[1]


def hrm(*args: str, **env: str) -> subprocess.CompletedProcess:
    """The installed `hrm` script next to this interpreter, else `python -m hrm_tui`."""
    script = Path(sys.executable).with_name("hrm")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "hrm_tui"]
    inherited = {k: v for k, v in os.environ.items() if k not in ("HRM_BLAS", "HRM_BLAS_THREADS")}
    return subprocess.run(
        [*command, *args], cwd=REPO, env={**inherited, **env}, capture_output=True, text=True, timeout=120
    )


def test_json_report_names_versions_blas_rate_and_weights():
    result = hrm("doctor", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["python"] == ".".join(map(str, sys.version_info[:3]))
    assert set(doctor.PACKAGES) <= set(report["packages"])
    assert report["packages"]["mlx"]
    assert report["mlx"]["default_device"]
    assert report["blas"]["name"]
    assert report["blas"]["active"] or report["blas"]["reason"]
    assert report["sgemm_gflops"] > 0
    assert report["weights"]["root"].endswith("weights")
    assert isinstance(report["weights"]["models"], list)


def test_blas_off_is_reported_with_its_reason():
    result = hrm("doctor", "--json", "--no-bench", HRM_BLAS="off")
    assert result.returncode == 0, result.stderr
    blas = json.loads(result.stdout)["blas"]
    assert blas["active"] is False
    assert "HRM_BLAS=off" in blas["reason"]
    assert blas["HRM_BLAS"] == "off"


def test_table_output_exits_zero():
    result = hrm("doctor", "--no-bench", NO_COLOR="1", COLUMNS="120")
    assert result.returncode == 0, result.stderr
    for word in ("Python", "mlx", "BLAS", "MLX device"):
        assert word in result.stdout


def test_help_does_not_import_mlx():
    code = "import sys; sys.argv = ['hrm', '--help']\nfrom hrm_tui.cli import main\ntry: main()\nexcept SystemExit: pass\nprint('mlx.core' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip().splitlines()[-1] == "False"


def write_safetensors(path: Path, shapes: dict[str, list[int]]) -> None:
    header, offset = {}, 0
    for name, shape in shapes.items():
        size = 4
        for dim in shape:
            size *= dim
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps({"__metadata__": {"format": "mlx"}, **header}).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(offset))


@pytest.fixture
def weights_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(doctor, "weights_root", lambda: tmp_path)
    (tmp_path / "__pycache__").mkdir()
    good = tmp_path / "sudoku"
    good.mkdir()
    (good / "config.json").write_text(json.dumps({"puzzle_kind": "sudoku", "hidden_size": 8}))
    write_safetensors(good / "model.safetensors", {"a": [3, 4], "b": [5]})
    counted = tmp_path / "maze"
    counted.mkdir()
    (counted / "config.json").write_text(json.dumps({"puzzle_kind": "maze", "num_params": 1234}))
    (counted / "model.safetensors").write_bytes(b"")
    half = tmp_path / "arc"
    half.mkdir()
    (half / "config.json").write_text("{not json")
    return tmp_path


def test_weights_listing_counts_params_and_flags_problems(weights_dir):
    listing = doctor._weights()
    assert listing["root"] == str(weights_dir)
    models = {m["dir"]: m for m in listing["models"]}
    assert sorted(models) == ["arc", "maze", "sudoku"]
    assert models["sudoku"] | {"path": None} == {
        "dir": "sudoku", "path": None, "kind": "sudoku", "params": 17, "status": "ok", "problems": []
    }
    assert models["maze"]["params"] == 1234  # a count in config.json wins over the header
    assert models["arc"]["status"] == "missing"
    assert models["arc"]["kind"] == "arc"
    assert any("config.json unreadable" in p for p in models["arc"]["problems"])
    assert "model.safetensors missing" in models["arc"]["problems"]


def test_corrupt_safetensors_is_reported_not_raised(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"\x01\x02")
    entry = doctor.describe_weights(tmp_path)
    assert entry["status"] == "corrupt"
    assert entry["problems"] == [entry["problems"][0]]
    assert "model.safetensors unreadable" in entry["problems"][0]
    assert entry["params"] is None


def test_slow_multithreading_gets_a_hint():
    report = {"blas": {"active": True, "threads": 2}, "sgemm_gflops": 12.0, "sgemm_gflops_1_thread": 120.0}
    assert any("HRM_BLAS_THREADS=1" in h for h in doctor._hints(report))
