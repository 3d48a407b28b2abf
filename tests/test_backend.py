"""models.backend: the fast-BLAS loader builds or falls back cleanly, and matmuls stay right.

Each case runs in a fresh interpreter, because the BLAS must be loaded before `mlx.core`
and a process can do that only once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINUX = sys.platform.startswith("linux")
HAS_CC = any(shutil.which(c) for c in ("cc", "gcc", "clang"))
needs_shim = pytest.mark.skipif(not (LINUX and HAS_CC), reason="shim route needs Linux and a C compiler")

# Loads the backend, checks MLX against numpy (matmuls in every transpose, plus one LAPACK
# routine), prints BlasInfo and the largest errors as JSON.
PROBE = textwrap.dedent(
    """
    import json, sys
    from models.backend import ensure_fast_blas
    info = ensure_fast_blas()
    import mlx.core as mx
    import numpy as np
    rng = np.random.default_rng(0)
    errors = {}
    for m, k, n in [(1, 7, 1), (33, 65, 17), (256, 128, 300)]:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        got = np.array(mx.array(a) @ mx.array(b))
        got_t = np.array(mx.array(a.T.copy()).T @ mx.array(b.T.copy()).T)
        want = a.astype(np.float64) @ b.astype(np.float64)
        errors[f"{m}x{k}x{n}"] = float(max(np.abs(got - want).max(), np.abs(got_t - want).max()))
    s = rng.standard_normal((48, 48)).astype(np.float32) + 48 * np.eye(48, dtype=np.float32)
    inv = np.array(mx.linalg.inv(mx.array(s), stream=mx.cpu))
    errors["inv"] = float(np.abs(inv @ s - np.eye(48)).max())
    print(json.dumps({"info": info.to_dict(), "errors": errors}))
    """
)


def run_python(code: str, tmp_path: Path, **env: str) -> dict:
    inherited = {k: v for k, v in os.environ.items() if k not in ("HRM_BLAS", "HRM_BLAS_THREADS", "CC")}
    full_env = {**inherited, "XDG_CACHE_HOME": str(tmp_path / "cache"), **env}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=full_env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def shim_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "hrm-tui" / "blas").glob("*"))


def assert_matmuls_right(errors: dict) -> None:
    for case, err in errors.items():
        assert err < 1e-3, f"{case}: max error {err}"


@needs_shim
def test_shim_builds_once_into_the_cache_and_matmul_matches_numpy(tmp_path):
    first = run_python(PROBE, tmp_path, HRM_BLAS="openblas")
    info = first["info"]
    assert info["active"], info["reason"]
    assert info["route"] == "openblas"
    assert "via shim" in info["name"]
    assert info["threads"] and info["threads"] >= 1
    assert Path(info["shim"]).parent == tmp_path / "cache" / "hrm-tui" / "blas"
    assert_matmuls_right(first["errors"])

    built = shim_files(tmp_path)
    assert [p.suffix for p in built] == [".so"]  # no temp files left behind
    mtime = built[0].stat().st_mtime_ns
    second = run_python(PROBE, tmp_path)  # auto picks the cached shim
    assert second["info"]["shim"] == info["shim"]
    assert built[0].stat().st_mtime_ns == mtime


@needs_shim
def test_parallel_first_runs_share_one_build(tmp_path):
    code = "import json; from models.backend import ensure_fast_blas; print(json.dumps(ensure_fast_blas().to_dict()))"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "HRM_BLAS": "openblas"}
    procs = [
        subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    infos = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    assert all(i["active"] for i in infos), infos
    assert [p.suffix for p in shim_files(tmp_path)] == [".so"]


def test_off_is_respected_and_matmul_still_right(tmp_path):
    out = run_python(PROBE, tmp_path, HRM_BLAS="off")
    assert not out["info"]["active"]
    assert "HRM_BLAS=off" in out["info"]["reason"]
    assert not shim_files(tmp_path)
    assert_matmuls_right(out["errors"])


@pytest.mark.skipif(not LINUX, reason="compiler fallback is a Linux path")
@pytest.mark.parametrize("cc, words", [("/nonexistent/cc", "C compiler"), ("false", "compiling the shim failed")])
def test_broken_compiler_falls_back_with_a_reason(tmp_path, cc, words):
    out = run_python(PROBE, tmp_path, HRM_BLAS="openblas", CC=cc)
    assert not out["info"]["active"]
    assert words in out["info"]["reason"]
    assert_matmuls_right(out["errors"])


def test_mlx_imported_first_is_reported_not_fatal(tmp_path):
    code = "import json, mlx.core; from models.backend import blas_info; print(json.dumps(blas_info().to_dict()))"
    info = run_python(code, tmp_path)
    assert not info["active"]
    assert "imported before" in info["reason"] or sys.platform == "darwin"


def test_unknown_choice_is_reported(tmp_path):
    code = "import json; from models.backend import blas_info; print(json.dumps(blas_info().to_dict()))"
    info = run_python(code, tmp_path, HRM_BLAS="fastest")
    assert not info["active"]
    assert "HRM_BLAS='fastest'" in info["reason"]


def mkl_installed() -> bool:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return bool(version("mkl"))
    except PackageNotFoundError:
        return False


@pytest.mark.skipif(not LINUX or mkl_installed(), reason="needs Linux without the mkl wheel")
def test_mkl_route_reports_when_wheel_is_absent(tmp_path):
    code = "import json; from models.backend import blas_info; print(json.dumps(blas_info().to_dict()))"
    info = run_python(code, tmp_path, HRM_BLAS="mkl")
    assert not info["active"]
    assert "mkl" in info["reason"]


@pytest.mark.skipif(not LINUX or not mkl_installed(), reason="needs Linux and `pip install mkl`")
def test_mkl_route_loads_and_matmul_matches_numpy(tmp_path):
    out = run_python(PROBE, tmp_path, HRM_BLAS="mkl")
    assert out["info"]["active"], out["info"]["reason"]
    assert out["info"]["route"] == "mkl"
    assert "libmkl_rt.so" in out["info"]["path"]
    assert not shim_files(tmp_path)
    assert_matmuls_right(out["errors"])


@needs_shim
def test_thread_count_follows_env_and_can_change(tmp_path):
    code = (
        "import json; from models.backend import blas_info, set_blas_threads;"
        "print(json.dumps([blas_info().threads, set_blas_threads(1)]))"
    )
    assert run_python(code, tmp_path, HRM_BLAS_THREADS="3") == [3, 1]
    assert run_python(code, tmp_path, HRM_BLAS_THREADS="lots")[0] >= 1


@needs_shim
def test_measure_reports_a_fast_rate(tmp_path):
    # One thread: with other jobs on a small machine, multi-threaded OpenBLAS can stall.
    code = "import json; from models.backend import measure_sgemm_gflops as m; print(json.dumps(m(512, 5)))"
    gflops = run_python(code, tmp_path, HRM_BLAS="openblas", HRM_BLAS_THREADS="1")
    assert gflops > 20  # the reference BLAS manages about 6-8


def test_inference_fits_its_blas_threads_to_the_work_unless_the_user_chose(monkeypatch):
    """Small forward passes, or cores busy elsewhere, take one BLAS thread; large ones on idle
    cores take every core; HRM_BLAS_THREADS always wins."""
    from models import backend

    if backend._threads_lib is None:
        pytest.skip("no optimised BLAS of ours is active")
    for name in ("HRM_BLAS_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    cores = backend._usable_cores()
    try:
        monkeypatch.setattr(backend, "cores_busy_elsewhere", lambda: False)
        assert backend.fit_blas_threads(82) == 1
        assert backend.fit_blas_threads(256 * 82) == cores
        monkeypatch.setattr(backend, "cores_busy_elsewhere", lambda: True)
        assert backend.fit_blas_threads(256 * 82) == 1
        monkeypatch.setenv("HRM_BLAS_THREADS", "1")
        backend.set_blas_threads(cores)
        assert backend.fit_blas_threads(82) is None  # left as the user set it
    finally:
        backend.set_blas_threads(backend.blas_info().threads or 1)  # as the session started
