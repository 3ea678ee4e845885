"""Reading pickled data files without running code from them.

``pickle.load`` and ``np.load(..., allow_pickle=True)`` execute whatever a file holds (a
``__reduce__`` can call any function), so a planted ``data_3d_h36m.npz`` or MotionBERT
``.pkl`` would run code on load. The published formats do need pickles (VideoPose3D's
npz keys hold dicts in 0-d object arrays; MotionBERT's file is a pickled dict of arrays),
so every data loader reads them through here:

- ``load_pickle(path)``: a pickle file, through ``RestrictedUnpickler``;
- ``load_npz(path)``: a ``.npz`` archive; plain arrays with ``allow_pickle=False``, object
  arrays through ``RestrictedUnpickler``. A file that is not a zip archive (e.g. a raw
  pickle renamed ``.npz``, which ``np.load`` would unpickle) is refused unread.

``RestrictedUnpickler`` admits only numpy arrays, dtypes and scalars, the builtin
containers and scalars (dict, list, tuple, set, frozenset, str, bytes, bytearray, int,
float, complex, bool, None) and ``collections.OrderedDict``; anything else raises
``UnsafePickleError`` naming the file and the refused global, before it is called.

Every failure to read a file's contents (not a zip, truncated, corrupt pickle, refused
global, missing key) is a ``DataFormatError``: a ``ValueError`` with a one-line message
that names the file (and the key). It is also a ``KeyError``, so code written against
the loaders' earlier "missing key" ``KeyError`` keeps working.
"""
from __future__ import annotations

import codecs
import collections
import os
import pickle
import zipfile

import numpy as np

__all__ = ["DataFormatError", "UnsafePickleError", "RestrictedUnpickler", "load_pickle", "load_npz"]


class DataFormatError(ValueError, KeyError):
    """A data file cannot be read as its format says (the message names the file and key)."""

    __str__ = BaseException.__str__  # KeyError would quote the message


class UnsafePickleError(DataFormatError):
    """A pickle asked for a global outside the allowed numpy / builtin types."""


def _one_line(text) -> str:
    return " ".join(str(text).split())


def _latin1_encode(obj, encoding="utf-8", errors="strict"):
    # Protocol-2 pickles of bytes (numpy's array payloads among them) call
    # _codecs.encode(text, "latin1"); no other codec is admitted.
    if codecs.lookup(encoding).name != "iso8859-1":
        raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r} is not allowed")
    return codecs.encode(obj, "latin1", errors)


def _allowed() -> dict[tuple[str, str], object]:
    """(module, name) -> object for every global a data pickle may name."""
    reconstruct = np.zeros(1).__reduce__()[0]  # numpy's _reconstruct
    scalar = np.float64(0).__reduce__()[0]  # numpy's scalar
    frombuffer = np.zeros(1).__reduce_ex__(5)[0]  # numpy's _frombuffer (protocol 5)
    table: dict[tuple[str, str], object] = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}
    # numpy 2 writes numpy._core, numpy 1 wrote numpy.core: accept both spellings.
    for core in ("numpy.core", "numpy._core"):
        table[(f"{core}.multiarray", "_reconstruct")] = reconstruct
        table[(f"{core}.multiarray", "scalar")] = scalar
        table[(f"{core}.numeric", "_frombuffer")] = frombuffer
    for mod in ("builtins", "__builtin__"):
        for obj in (set, frozenset, bytearray, complex, bytes, str, int, float, bool, dict, list, tuple):
            table[(mod, obj.__name__)] = obj
    table[("collections", "OrderedDict")] = collections.OrderedDict
    table[("_codecs", "encode")] = _latin1_encode
    return table


_ALLOWED = _allowed()


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only numpy array/dtype/scalar and builtin container globals.

    ``where`` names the file (and member) in the error message.
    """

    def __init__(self, file, where: str, **kw):
        super().__init__(file, **kw)
        self.where = where

    def find_class(self, module, name):
        obj = _ALLOWED.get((module, name))
        if obj is None:
            raise UnsafePickleError(
                f"{self.where}: refused to unpickle {module}.{name}: a data file may hold only numpy arrays, "
                "dtypes and builtin containers and scalars (this file may have been tampered with)")
        return obj

    def persistent_load(self, pid):
        raise UnsafePickleError(f"{self.where}: refused a persistent id in the pickle (not a plain data file)")


def load_pickle(path) -> object:
    """Unpickle the file at ``path`` with ``RestrictedUnpickler``.

    ``FileNotFoundError`` passes through; everything else that goes wrong is a
    ``DataFormatError`` naming the file.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        try:
            return RestrictedUnpickler(f, path).load()
        except DataFormatError:
            raise
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError,
                IndexError, KeyError, MemoryError, OverflowError) as exc:
            raise DataFormatError(f"{path}: not a readable pickle ({type(exc).__name__}: {_one_line(exc)})") from None


def _read_object_npy(fp, where: str):
    """One ``.npy`` stream -> its array if the dtype holds objects (through
    ``RestrictedUnpickler``), else ``None`` (the caller reads it with ``allow_pickle=False``)."""
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        _, _, dtype = np.lib.format.read_array_header_1_0(fp)
    elif version == (2, 0):
        _, _, dtype = np.lib.format.read_array_header_2_0(fp)
    else:
        raise DataFormatError(f"{where}: unsupported .npy format version {version}")
    if dtype.hasobject:
        arr = RestrictedUnpickler(fp, where).load()
        if not isinstance(arr, np.ndarray):
            raise DataFormatError(f"{where}: object array member unpickled to {type(arr).__name__}, expected an array")
        return arr
    return None


def load_npz(path, keys=None) -> dict[str, np.ndarray]:
    """Read a ``.npz`` archive: ``{key: array}`` in file order (or only ``keys``, when given).

    Object arrays (VideoPose3D's pickled dicts) are unpickled with ``RestrictedUnpickler``;
    0-d object arrays are returned as they are (use ``.item()``). A file that is not a zip
    archive is refused without being read as a pickle. Errors name the file and member.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"expected the file {path}")
    want = None if keys is None else set(keys)
    out: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            for member in zf.namelist():
                if not member.endswith(".npy"):
                    continue
                key = member[:-4]
                if want is not None and key not in want:
                    continue
                where = f"{path} (key {key!r})"
                with zf.open(member) as fp:
                    arr = _read_object_npy(fp, where)
                if arr is None:  # plain dtype: numpy's own reader, pickles disabled
                    with zf.open(member) as fp:
                        arr = np.lib.format.read_array(fp, allow_pickle=False)
                out[key] = arr
    except zipfile.BadZipFile as exc:
        raise DataFormatError(f"{path}: not a .npz (zip) archive ({_one_line(exc)}); it is not read as a pickle "
                              "for safety") from None
    except DataFormatError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError, IndexError,
            KeyError, OSError, zipfile.LargeZipFile, MemoryError, OverflowError) as exc:
        raise DataFormatError(f"{path}: unreadable .npz ({type(exc).__name__}: {_one_line(exc)})") from None
    return out
