"""Read a PyTorch checkpoint as numpy arrays, without torch and without running its pickle.

`torch.save` writes a zip archive: `<name>/data.pkl` is the pickled object, in which every
tensor is a call to `torch._utils._rebuild_tensor_v2` on a persistent storage id, and
`<name>/data/<key>` holds the raw bytes of each storage. A pickle may call any importable
function, so data.pkl is read by an Unpickler whose `find_class` admits only the handful of
names a tensor state dict uses (tensor rebuilding, storage types, dtypes, OrderedDict); any
other name (os.system, builtins.eval, ...) is refused before it can be called. Storages are read
from the zip after checking their sizes, and every tensor's shape, strides and offset are
checked to lie inside its storage before it is viewed. Nothing from the file ever executes.
"""

from __future__ import annotations

import collections
import io
import math
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from models.errors import ModelError


class _Sealed:
    """Objects the pickle may hold but never modify: BUILD (`__setstate__`) is refused."""

    __slots__ = ()

    def __setstate__(self, state: Any) -> None:
        raise ModelError("its pickle tries to modify a storage or dtype, which a state dict never does")


class _Dtype(_Sealed):
    """A torch dtype (or typed storage class): its name and little-endian element layout."""

    __slots__ = ("name", "layout")

    def __init__(self, name: str, layout: str):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "layout", layout)

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("read-only")


class _Storage(_Sealed):
    """The raw bytes of one storage and the dtype torch saved it with."""

    __slots__ = ("raw", "dtype")

    def __init__(self, raw: np.ndarray, dtype: _Dtype):
        object.__setattr__(self, "raw", raw)
        object.__setattr__(self, "dtype", dtype)

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("read-only")


# bfloat16 has no numpy type: its 16 bits are read as uint16 and widened to float32.
_DTYPES = {name: _Dtype(name, layout) for name, layout in (
    ("float32", "<f4"), ("float64", "<f8"), ("float16", "<f2"), ("bfloat16", "<u2"), ("int64", "<i8"),
    ("int32", "<i4"), ("int16", "<i2"), ("int8", "i1"), ("uint8", "u1"), ("bool", "?"))}
_STORAGE_DTYPES = {
    "FloatStorage": "float32", "DoubleStorage": "float64", "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32", "ShortStorage": "int16",
    "CharStorage": "int8", "ByteStorage": "uint8", "BoolStorage": "bool", "UntypedStorage": "uint8",
}


def bfloat16_to_float32(bits: np.ndarray) -> np.ndarray:
    """bfloat16 values (as their uint16 bit patterns) to float32: the same bits, shifted up."""
    return (bits.astype(np.uint32) << 16).view(np.float32)


def _is_int(value: Any) -> bool:
    return type(value) is int


class _StateDictUnpickler(pickle.Unpickler):
    """Unpickles tensors and containers only; storages come from the zip archive."""

    def __init__(self, archive: zipfile.ZipFile, prefix: str, source: str, byteorder: str):
        super().__init__(io.BytesIO(archive.read(f"{prefix}data.pkl")))
        self._archive, self._prefix, self._source = archive, prefix, source
        self._swap = byteorder == "big"
        self._storages: dict[str, _Storage] = {}

    # -- the only names a state dict needs -----------------------------------------------
    def find_class(self, module: str, name: str) -> Any:
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return self._rebuild_tensor_v2
        if module == "torch._utils" and name == "_rebuild_parameter":
            return self._rebuild_parameter
        if module == "torch" and name in _STORAGE_DTYPES:
            return _DTYPES[_STORAGE_DTYPES[name]]
        if module == "torch.storage" and name == "UntypedStorage":
            return _DTYPES["uint8"]
        if module == "torch" and name in _DTYPES:
            return _DTYPES[name]
        raise ModelError(f"refusing to load {self._source}: its pickle asks for {module}.{name}, which a "
                         "tensor state dict never needs (only tensors are read; nothing in the file is run)")

    def persistent_load(self, pid: Any) -> _Storage:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and isinstance(pid[1], _Dtype)
                and isinstance(pid[2], str) and _is_int(pid[4]) and pid[4] >= 0):
            raise ModelError(f"{self._source}: data.pkl refers to a storage as {pid!r:.80}, not a torch storage id")
        _, dtype, key, _location, numel = pid
        if key not in self._storages:
            self._storages[key] = self._read_storage(key, dtype, numel)
        return self._storages[key]

    def _read_storage(self, key: str, dtype: _Dtype, numel: int) -> _Storage:
        name = f"{self._prefix}data/{key}"
        try:
            info = self._archive.getinfo(name)
        except KeyError:
            raise ModelError(f"{self._source} is incomplete: it has no storage {name}") from None
        nbytes = numel * np.dtype(dtype.layout).itemsize
        if info.file_size != nbytes:
            raise ModelError(f"{self._source}: storage {name} holds {info.file_size} bytes, its "
                             f"{numel} {dtype.name} values need {nbytes}")
        return _Storage(np.frombuffer(self._archive.read(name), dtype=np.uint8), dtype)

    # -- tensor rebuilding ----------------------------------------------------------------
    def _rebuild_tensor_v2(self, storage, storage_offset, size, stride, requires_grad=False,
                           backward_hooks=None, metadata=None) -> np.ndarray:
        if not isinstance(storage, _Storage):
            raise ModelError(f"{self._source}: a tensor in data.pkl is not built on a storage")
        return self._view(storage, storage_offset, size, stride)

    def _rebuild_parameter(self, data, requires_grad=False, backward_hooks=None) -> np.ndarray:
        if not isinstance(data, np.ndarray):
            raise ModelError(f"{self._source}: a parameter in data.pkl wraps something other than a tensor")
        return data

    def _view(self, storage: _Storage, offset: Any, size: Any, stride: Any) -> np.ndarray:
        """A float32 (or integer) copy of the strided view, after checking it lies inside the
        storage and holds no more values than the storage (so no view reads out of bounds or
        inflates a tiny storage into a huge array)."""
        layout = np.dtype(storage.dtype.layout)
        flat = storage.raw.view(layout.newbyteorder(">") if self._swap else layout)  # sizes checked on reading
        if not (_is_int(offset) and offset >= 0 and isinstance(size, tuple) and isinstance(stride, tuple)
                and len(size) == len(stride) and all(_is_int(n) and n >= 0 for n in (*size, *stride))):
            raise ModelError(f"{self._source}: a tensor has a malformed shape, stride or offset")
        native = layout.newbyteorder("=")
        count = math.prod(size)
        if not count:
            out = np.zeros(size, dtype=native)
        else:
            last = offset + sum((n - 1) * s for n, s in zip(size, stride))
            if last >= flat.size or count > flat.size:
                raise ModelError(f"{self._source}: a tensor of shape {size} reaches past its storage of "
                                 f"{flat.size} values (a corrupt or truncated checkpoint?)")
            view = np.lib.stride_tricks.as_strided(flat[offset:], shape=size, writeable=False,
                                                   strides=[s * layout.itemsize for s in stride])
            out = np.array(view, dtype=native)
        return bfloat16_to_float32(out) if storage.dtype.name == "bfloat16" else out


def _archive_prefix(archive: zipfile.ZipFile, source: str) -> str:
    """The folder torch.save put everything in (`archive/` or the file's own name)."""
    found = [n[: -len("data.pkl")] for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(found) != 1:
        raise ModelError(f"{source} is a zip archive but not a PyTorch checkpoint (no single <name>/data.pkl in it)")
    return found[0]


def load(path: Path) -> Any:
    """The object a `torch.save` zip checkpoint holds, with every tensor as a numpy array
    (bfloat16 widened to float32). Every problem is a one-line ModelError."""
    path = Path(path)
    source = str(path)
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not magic.startswith(b"PK"):
        if magic[:1] == b"\x80":
            raise ModelError(f"{path} is a plain pickle (the legacy pre-1.6 PyTorch format?), which is not read "
                             "for safety; re-save it with torch.save from PyTorch >= 1.6")
        raise ModelError(f"{path} is not a PyTorch checkpoint (a torch.save zip archive)")
    try:
        with zipfile.ZipFile(path) as archive:
            prefix = _archive_prefix(archive, source)
            byteorder = "little"
            if f"{prefix}byteorder" in archive.namelist():
                byteorder = archive.read(f"{prefix}byteorder").decode("ascii", "replace").strip()
            return _StateDictUnpickler(archive, prefix, source, byteorder).load()
    except ModelError:
        raise
    except zipfile.BadZipFile as exc:
        raise ModelError(f"{path} is not a complete zip archive ({exc}; a truncated download?)") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            RecursionError, OverflowError, UnicodeDecodeError, NotImplementedError) as exc:
        raise ModelError(f"{path}: data.pkl is not a readable state dict ({type(exc).__name__}: {exc})") from None
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {exc.strerror or exc}") from None
