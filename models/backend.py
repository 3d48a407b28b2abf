"""Make MLX's Linux CPU backend use an optimised sgemm. The one guarded place that does it.

MLX's Linux CPU wheel links a reference BLAS (about 6 GFLOP/s). `libmlx.so` resolves
`cblas_sgemm` through the global symbol scope, so a library exporting that name that is
loaded with RTLD_GLOBAL *before* `import mlx.core` takes over every float32 matmul
(about 30x faster). Two routes (docs/architecture.md):

- ``openblas``: `scipy-openblas32` (a dependency) exports only ``scipy_``-prefixed names,
  so a tiny C shim (`_cblas_shim.c`) forwarding the plain names is compiled once with the
  system C compiler and cached per user, keyed by the OpenBLAS build.
- ``mkl``: the PyPI `mkl` wheel's `libmkl_rt.so` exports `cblas_sgemm` itself.

``HRM_BLAS=off|openblas|mkl|auto`` (default auto: openblas, then mkl) chooses;
``HRM_BLAS_THREADS`` sets the BLAS thread count (default: every core this process may use;
set it to 1 when other jobs keep the cores busy, see `set_blas_threads`).
On macOS (Accelerate) and CUDA machines nothing is done. Nothing here raises: whatever
fails is recorded as the reason in `blas_info()` and MLX keeps its own BLAS.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROUTES = ("off", "openblas", "mkl", "auto")
_SHIM_SOURCE = Path(__file__).with_name("_cblas_shim.c")
_COMPILE_TIMEOUT_S = 120
_MLX_CUDA_DISTRIBUTIONS = ("mlx-cuda-12", "mlx-cuda-13", "mlx-cuda")  # what mlx[cuda*] pulls in


@dataclass(frozen=True)
class BlasInfo:
    """Which BLAS MLX's CPU matmuls use, and why."""

    name: str
    """What serves `cblas_sgemm`, e.g. "scipy-openblas32 0.3.34 via shim"."""
    active: bool
    """True when an optimised BLAS was loaded ahead of MLX's reference one."""
    route: str = "off"
    """"openblas", "mkl", or "off" when MLX's own BLAS is in use."""
    path: str | None = None
    """The library that provides the optimised sgemm."""
    shim: str | None = None
    """The compiled forwarding shim (openblas route only)."""
    threads: int | None = None
    """BLAS worker threads, when the library reports them."""
    reason: str | None = None
    """Why no optimised BLAS is active (or what was tried first), for `hrm doctor`."""

    def to_dict(self) -> dict:
        return asdict(self)


class _RouteFailed(Exception):
    """One route could not be used; the message becomes `BlasInfo.reason`."""


_lock = threading.Lock()
_info: BlasInfo | None = None
_keep_loaded: list[ctypes.CDLL] = []  # handles must outlive every MLX call
_threads_lib: ctypes.CDLL | None = None  # the library whose thread count we control


def ensure_fast_blas() -> BlasInfo:
    """Load the optimised BLAS if possible; idempotent, never raises.

    Must run before the first `import mlx.core` in the process (`models/__init__.py`
    calls it), otherwise MLX has already bound its reference BLAS.
    """
    global _info
    with _lock:
        if _info is None:
            try:
                _info = _select()
            except Exception as exc:  # noqa: BLE001 - a slow matmul beats a crash
                _info = _inactive(f"unexpected error: {type(exc).__name__}: {exc}")
        return _info


def blas_info() -> BlasInfo:
    """What `ensure_fast_blas` did (running it first if nobody has)."""
    return ensure_fast_blas()


def measure_sgemm_gflops(n: int = 1024, repeats: int = 5) -> float:
    """Best-of-`repeats` float32 n x n matmul rate through MLX on its default device."""
    ensure_fast_blas()
    import mlx.core as mx

    a = mx.random.normal((n, n), dtype=mx.float32)
    b = mx.random.normal((n, n), dtype=mx.float32)
    mx.eval(a, b, a @ b)  # warm-up: thread pools, allocator
    best = float("inf")
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        mx.eval(a @ b)
        best = min(best, time.perf_counter() - start)
    return 2.0 * n**3 / best / 1e9


def _inactive(reason: str, name: str = "MLX bundled BLAS") -> BlasInfo:
    return BlasInfo(name=name, active=False, route="off", reason=reason)


def _select() -> BlasInfo:
    choice = os.environ.get("HRM_BLAS", "auto").strip().lower() or "auto"
    if choice not in ROUTES:
        return _inactive(f"HRM_BLAS={choice!r} is not one of {'|'.join(ROUTES)}")
    if choice == "off":
        return _inactive("disabled by HRM_BLAS=off")
    if sys.platform == "darwin":
        return _inactive("macOS: MLX uses Accelerate and Metal", name="Accelerate (MLX)")
    if not sys.platform.startswith("linux"):
        return _inactive(f"no fast-BLAS route for platform {sys.platform}")
    if any(_has_distribution(d) for d in _MLX_CUDA_DISTRIBUTIONS):
        return _inactive("mlx[cuda]: MLX's own GPU path is used", name="MLX CUDA build")
    if "mlx.core" in sys.modules:
        return _inactive("mlx.core was imported before ensure_fast_blas()")

    routes = {"openblas": _load_openblas_shim, "mkl": _load_mkl}
    tried = ["openblas", "mkl"] if choice == "auto" else [choice]
    failures = []
    for route in tried:
        try:
            info = routes[route]()
        except _RouteFailed as exc:
            failures.append(f"{route}: {exc}")
            continue
        if failures:  # auto found a later route: say why the earlier one was skipped
            info = BlasInfo(**{**info.to_dict(), "reason": "; ".join(failures)})
        return info
    return _inactive("; ".join(failures))


# --- openblas route -------------------------------------------------------------------


def _load_openblas_shim() -> BlasInfo:
    lib_path, version = _find_scipy_openblas()
    openblas = _load_global(lib_path)
    shim_path = _build_shim(lib_path, version)
    try:
        shim = _load_global(shim_path)
    except _RouteFailed:  # a damaged cached copy: build it afresh once
        shim_path.unlink(missing_ok=True)
        shim = _load_global(_build_shim(lib_path, version))
    _check_exported(shim, "cblas_sgemm")
    threads = _set_threads(openblas, "openblas")
    return BlasInfo(
        name=f"scipy-openblas32 {version} via shim",
        active=True,
        route="openblas",
        path=str(lib_path),
        shim=str(shim_path),
        threads=threads,
    )


def _find_scipy_openblas() -> tuple[Path, str]:
    import importlib.util

    spec = importlib.util.find_spec("scipy_openblas32")
    if spec is None or not spec.submodule_search_locations:
        raise _RouteFailed("scipy-openblas32 is not installed")
    lib_dir = Path(next(iter(spec.submodule_search_locations))) / "lib"
    libs = sorted(lib_dir.glob("libscipy_openblas*.so*"))
    if not libs:
        raise _RouteFailed(f"no libscipy_openblas*.so in {lib_dir}")
    return libs[0].resolve(), _version("scipy-openblas32") or "unknown"


def _build_shim(lib_path: Path, version: str) -> Path:
    """Compile the shim once per (source, OpenBLAS build, machine); reuse the cached copy."""
    try:
        source = _SHIM_SOURCE.read_bytes()
    except OSError as exc:
        raise _RouteFailed(f"shim source missing: {exc}") from None
    key_material = b"\0".join([source, str(lib_path).encode(), version.encode(), platform.machine().encode()])
    key = hashlib.sha256(key_material).hexdigest()[:16]
    name = f"libhrm_cblas_shim-{version}-{key}.so"

    cache_dirs = [_cache_dir(), Path(tempfile.gettempdir()) / f"hrm-tui-{os.getuid()}" / "blas"]
    for directory in cache_dirs:
        if (directory / name).is_file():
            return directory / name

    compiler = _compiler()
    errors = []
    for directory in cache_dirs:
        try:
            return _compile(compiler, directory, name, lib_path)
        except OSError as exc:
            errors.append(f"{directory}: {exc}")
    raise _RouteFailed("cannot write the shim: " + "; ".join(errors))


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "hrm-tui" / "blas"


def _compiler() -> list[str]:
    if os.environ.get("CC"):
        return shlex.split(os.environ["CC"])
    for candidate in ("cc", "gcc", "clang"):
        found = shutil.which(candidate)
        if found:
            return [found]
    raise _RouteFailed("no C compiler found (cc, gcc, clang or $CC) to build the shim")


def _compile(compiler: list[str], directory: Path, name: str, lib_path: Path) -> Path:
    """Build into a private temp file, then rename: parallel builders never see half a file."""
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    command = [
        *compiler, "-O2", "-shared", "-fPIC", "-o", tmp, str(_SHIM_SOURCE),
        str(lib_path), f"-Wl,-rpath,{lib_path.parent}",
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=_COMPILE_TIMEOUT_S)
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise _RouteFailed(f"compiling the shim failed: {detail[-1] if detail else result.returncode}")
        os.chmod(tmp, 0o755)
        target = directory / name
        os.replace(tmp, target)
        return target
    except subprocess.TimeoutExpired:
        raise _RouteFailed(f"compiling the shim took over {_COMPILE_TIMEOUT_S} s") from None
    except FileNotFoundError as exc:
        raise _RouteFailed(f"cannot run the C compiler: {exc}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# --- mkl route ------------------------------------------------------------------------


def _load_mkl() -> BlasInfo:
    lib_path = _find_mkl()
    mkl = _load_global(lib_path)
    _check_exported(mkl, "cblas_sgemm")
    threads = _set_threads(mkl, "mkl")
    version = _version("mkl")
    return BlasInfo(
        name=f"Intel MKL {version}" if version else "Intel MKL",
        active=True,
        route="mkl",
        path=str(lib_path),
        threads=threads,
    )


def _find_mkl() -> Path:
    """`libmkl_rt.so` from the PyPI `mkl` wheel (installed into <prefix>/lib)."""
    import importlib.metadata

    try:
        files = importlib.metadata.distribution("mkl").files or []
    except importlib.metadata.PackageNotFoundError:
        raise _RouteFailed("the PyPI `mkl` wheel is not installed") from None
    candidates = sorted(
        (Path(f.locate()).resolve() for f in files if Path(str(f)).name.startswith("libmkl_rt.so")),
        key=lambda p: len(p.name),
    )
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise _RouteFailed("the `mkl` wheel has no libmkl_rt.so")


# --- shared helpers -------------------------------------------------------------------


def _load_global(path: Path) -> ctypes.CDLL:
    try:
        lib = ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
    except OSError as exc:
        raise _RouteFailed(f"cannot load {path.name}: {exc}") from None
    _keep_loaded.append(lib)
    return lib


def _check_exported(lib: ctypes.CDLL, symbol: str) -> None:
    """The process-wide `symbol` must be the one from `lib`, or MLX would not pick it up."""
    try:
        ours = ctypes.cast(getattr(lib, symbol), ctypes.c_void_p).value
        seen = ctypes.cast(getattr(ctypes.CDLL(None), symbol), ctypes.c_void_p).value
    except AttributeError:
        raise _RouteFailed(f"{symbol} is not visible in the global symbol scope") from None
    if ours != seen:
        raise _RouteFailed(f"another library already provides {symbol}")


_THREAD_CONTROL = {  # route -> (the library's own variable, setter, getter)
    "openblas": ("OPENBLAS_NUM_THREADS", "scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
    "mkl": ("MKL_NUM_THREADS", "MKL_Set_Num_Threads", "MKL_Get_Max_Threads"),
}


def set_blas_threads(count: int) -> int | None:
    """Change the active BLAS's thread count at run time; returns what it reports.

    With more BLAS threads than idle cores (say, two jobs on a 2-core machine) OpenBLAS
    can slow down about tenfold; a single thread then is the faster choice.
    """
    info = blas_info()
    if not info.active or _threads_lib is None:
        return None
    return _apply_threads(_threads_lib, info.route, max(1, int(count)))


# A forward pass over fewer token rows than this is too small to split across BLAS threads:
# a batch-1 Sudoku segment (82 rows) ran 11.0 ms with two threads and no faster than one.
# Lower thresholds paid only on an idle machine (per row: 8 Sudoku rows, 656 rows, 6.7 ms
# against 9.1 with one thread), and beside one busy core, which the load average does not
# count as busy on 2 cores, a 30x30 maze at batch 1 (901 rows) took 9.5 s with two threads
# against 5.0 s with one (`hrm solve maze --file`, start-up included).
SMALL_WORK_ROWS = 4096


def user_chose_threads() -> bool:
    """Whether HRM_BLAS_THREADS (or the library's own variable) fixes the thread count."""
    route = blas_info().route
    names = ("HRM_BLAS_THREADS",) + ((_THREAD_CONTROL[route][0],) if route in _THREAD_CONTROL else ())
    return any(os.environ.get(name, "").strip().isdigit() for name in names)


@functools.lru_cache(maxsize=1)
def cores_busy_elsewhere() -> bool:
    """Whether other processes keep this process's cores busy: the 1-minute load average
    leaves less than one core idle. Read once, at the first inference, before our own work
    adds to it."""
    try:
        return os.getloadavg()[0] > _usable_cores() - 1 + 0.5
    except (AttributeError, OSError):
        return False


def fit_blas_threads(rows: int) -> int | None:
    """Choose the BLAS threads for inference over `rows` token rows per forward pass, unless
    the user chose: one thread when the matrices are small or other processes hold the cores
    (spinning BLAS threads that wait for a busy core slowed one solve 60x on 2 cores), every
    usable core otherwise. Returns the count in effect (None when no BLAS is ours)."""
    if _threads_lib is None or user_chose_threads():
        return None
    one = rows < SMALL_WORK_ROWS or cores_busy_elsewhere()
    return set_blas_threads(1 if one else _usable_cores())


def _set_threads(lib: ctypes.CDLL, route: str) -> int | None:
    """HRM_BLAS_THREADS, else the library's own variable, else every usable core."""
    global _threads_lib
    _threads_lib = lib
    for variable in ("HRM_BLAS_THREADS", _THREAD_CONTROL[route][0]):
        raw = os.environ.get(variable, "").strip()
        if raw.isdigit() and int(raw) > 0:
            return _apply_threads(lib, route, int(raw))
    return _apply_threads(lib, route, _usable_cores())


def _apply_threads(lib: ctypes.CDLL, route: str, count: int) -> int | None:
    _, setter, getter = _THREAD_CONTROL[route]
    try:
        getattr(lib, setter)(ctypes.c_int(count))
        get = getattr(lib, getter)
        get.restype = ctypes.c_int
        return int(get())
    except AttributeError:
        return None


def _usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _version(distribution: str) -> str | None:
    import importlib.metadata

    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _has_distribution(distribution: str) -> bool:
    return _version(distribution) is not None
