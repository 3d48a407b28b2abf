"""Make MLX's CPU `mx.compile` kernels vectorised. The one guarded place that does it.

On the CPU, `mx.compile` fuses chains of elementwise ops into C++ loops that MLX builds at
run time with ``g++ -std=c++17 -O3 -fPIC -shared``. With those flags the loops stay scalar and
`exp`/`sigmoid` remain out-of-line calls (~9 ns per element, the reason SiLU and softmax
dominated a training step). Adding ``-march=native -fno-math-errno -fno-trapping-math`` and a
higher inline limit turns them into AVX loops: a fused SiLU*up costs 0.9 ms instead of 39 ms
for 2.7M elements. These flags keep IEEE semantics (NaN and inf behave as before; only FMA
contraction changes rounding in the last bit).

MLX offers no switch for its compiler flags, so `ensure_fast_jit` puts a `g++` wrapper that
appends them first on PATH, and points TMPDIR (where MLX caches its kernels, one library per
kernel name) at a private directory keyed by the flags, so kernels built with other flags are
never mixed in and other MLX programs never pick ours up. Python's own temporary directory is
pinned first (and passed to child processes in HRM_ORIGINAL_TMPDIR), so `tempfile` is unaffected. ``HRM_JIT=off`` disables all of it; machines with no
g++ simply keep MLX's uncompiled ops (MLX skips compilation there).
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import sys
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

_ORIGINAL_TMPDIR = "HRM_ORIGINAL_TMPDIR"
FLAGS = ("-march=native", "-fno-math-errno", "-fno-trapping-math", "-finline-limit=10000")


@dataclass(frozen=True)
class JitInfo:
    """Whether compiled CPU kernels are vectorised, and why not."""

    active: bool
    compiler: str | None = None
    flags: str = ""
    kernel_dir: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


_lock = threading.Lock()
_info: JitInfo | None = None


def ensure_fast_jit() -> JitInfo:
    """Install the compiler wrapper once per process; idempotent, never raises."""
    global _info
    with _lock:
        if _info is None:
            try:
                _info = _install()
            except OSError as exc:
                _info = JitInfo(active=False, reason=f"cannot write the compiler wrapper: {exc}")
        return _info


def jit_info() -> JitInfo:
    return ensure_fast_jit()


def use_compile() -> bool:
    """Whether hot paths (training step, inference segment) should run under `mx.compile`.

    Only on the CPU with vectorised kernels: MLX's default CPU kernels are slower than the
    eager fast path, and without g++ MLX would silently run the trace uncompiled every call.
    GPUs keep the eager path (not measured here). ``HRM_COMPILE=0`` turns compilation off.
    """
    if os.environ.get("HRM_COMPILE", "").strip().lower() in ("0", "off", "false", "no"):
        return False
    import mlx.core as mx

    return mx.default_device() == mx.cpu and ensure_fast_jit().active


def _install() -> JitInfo:
    if os.environ.get("HRM_JIT", "").strip().lower() in ("0", "off", "false", "no"):
        return JitInfo(active=False, reason="disabled by HRM_JIT")
    if not sys.platform.startswith("linux"):
        return JitInfo(active=False, reason=f"not needed on {sys.platform}")
    cache = _cache_dir()
    # A child of a process that installed the wrapper inherits it on PATH: look past it.
    search = os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep)
                             if d and not Path(d).is_relative_to(cache))
    compiler = shutil.which("g++", path=search)
    if compiler is None:
        return JitInfo(active=False, reason="no g++: MLX runs CPU ops uncompiled")
    compiler = os.path.realpath(compiler)
    import mlx.core as mx

    key_material = "\0".join([compiler, *FLAGS, mx.__version__, platform.machine()])
    key = hashlib.sha256(key_material.encode()).hexdigest()[:12]
    bin_dir, tmp_dir = cache / key / "bin", cache / key / "tmp"
    bin_dir.mkdir(parents=True, exist_ok=True)
    tmp_dir.mkdir(parents=True, exist_ok=True)
    wrapper = bin_dir / "g++"
    script = _WRAPPER.format(compiler=compiler, flags=" ".join(FLAGS))
    if not wrapper.is_file() or wrapper.read_text() != script:
        staging = bin_dir / f".g++.{os.getpid()}"
        staging.write_text(script)
        staging.chmod(0o755)
        os.replace(staging, wrapper)
    # Python's temporary files stay where they were, also in child processes that inherit TMPDIR.
    original = os.environ.setdefault(_ORIGINAL_TMPDIR, tempfile.gettempdir())
    tempfile.tempdir = original
    saved = {name: os.environ.get(name) for name in ("PATH", "TMPDIR")}
    os.environ["PATH"] = os.pathsep.join([str(bin_dir), search])
    os.environ["TMPDIR"] = str(tmp_dir)
    try:  # one tiny kernel (cached after the first time): a compiler that cannot build them is not used
        probe = mx.compile(lambda a: mx.exp(a) * a + 1)
        mx.eval(probe(mx.ones((4,))))
    except Exception as exc:  # noqa: BLE001 - fall back to eager ops, never fail a run
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        return JitInfo(active=False, compiler=compiler, reason=f"building a kernel failed: {exc}")
    return JitInfo(active=True, compiler=compiler, flags=" ".join(FLAGS),
                   kernel_dir=str(tmp_dir / "mlx" / mx.__version__ / "cpu"))


# MLX runs `g++ ... "<dir>/<kernel>.cpp" -o "<dir>/lib<kernel>.so"`. The wrapper adds the flags,
# builds into a private file and renames it into place, so processes compiling the same kernel
# at once never load a half-written library; a retry covers a source file another process is
# rewriting (with identical text) at that moment.
_WRAPPER = """#!/bin/sh
out=
prev=
count=$#
for arg in "$@"; do
  if [ "$prev" = "-o" ]; then out=$arg; arg="$arg.$$.tmp"; fi
  set -- "$@" "$arg"
  prev=$arg
done
shift "$count"
if [ -z "$out" ]; then exec "{compiler}" "$@"; fi
for attempt in 1 2 3; do
  if "{compiler}" "$@" {flags}; then mv -f "$out.$$.tmp" "$out"; exit 0; fi
  rm -f "$out.$$.tmp"
  sleep 1
done
exit 1
"""


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "hrm-tui" / "jit"
