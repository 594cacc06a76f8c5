"""Read and write IDX files, the format MNIST is distributed in.

An IDX file is a tiny header followed by one big C-ordered array::

    bytes 0-1   0x00 0x00              magic: always zero
    byte  2     type code              0x08 uint8, 0x09 int8, 0x0B int16,
                                       0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions   e.g. 3 for images (n, rows, cols)
    then        one big-endian uint32 per dimension
    then        the data, big-endian, row-major

For example ``train-images-idx3-ubyte`` starts ``00 00 08 03 | 00 00 ea 60 |
00 00 00 1c | 00 00 00 1c``: unsigned bytes, 3 dimensions, 60000 x 28 x 28.

Files may also be gzip-compressed (as the public mirrors serve them); that is
detected from the first two bytes (``1f 8b``), not from the file name.
"""

from __future__ import annotations

import gzip
import math
import os
import pathlib
import zlib

import numpy as np

from ..errors import DataError

__all__ = ["IDX_TYPES", "read_idx", "read_idx_bytes", "write_idx"]

#: IDX type code -> NumPy dtype as stored in the file (big-endian).
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_GZIP_MAGIC = b"\x1f\x8b"
_REFETCH_HINT = (
    "The file is damaged or is not an IDX file: delete it and fetch it again "
    "(for MNIST: `explainer data fetch mnist`)."
)


def read_idx_bytes(path: str | os.PathLike) -> bytes:
    """Return the bytes of an IDX file, decompressed if it is gzipped.

    Parameters
    ----------
    path : str or path-like
        A raw or gzip-compressed IDX file.

    Returns
    -------
    bytes
        The uncompressed content (what MNIST's SHA-256 checksums are taken of).

    Raises
    ------
    DataError
        If ``path`` is not a file, is empty, or is a broken gzip stream.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        problem = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise DataError(f"IDX file {path} {problem}. Check the path you gave.")
    data = path.read_bytes()
    if not data:
        raise DataError(f"IDX file {path} is empty (0 bytes). {_REFETCH_HINT}")
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(
                f"IDX file {path} looks gzip-compressed but cannot be decompressed ({exc}). "
                f"{_REFETCH_HINT}"
            ) from exc
        if not data:
            raise DataError(f"IDX file {path} decompresses to 0 bytes. {_REFETCH_HINT}")
    return data


def _parse_idx(data: bytes, path: pathlib.Path) -> np.ndarray:
    """Turn the uncompressed bytes of an IDX file into an array (native byte order)."""
    def fail(problem: str) -> DataError:
        return DataError(f"IDX file {path}: {problem}. {_REFETCH_HINT}")

    if len(data) < 4:
        raise fail(f"only {len(data)} bytes, too short for the 4-byte IDX header")
    if data[0] != 0 or data[1] != 0:
        found = data[:2].hex(" ")
        raise fail(f"bad magic number: the first two bytes must be 00 00, found {found}")
    type_code, ndim = data[2], data[3]
    if type_code not in IDX_TYPES:
        known = ", ".join(f"0x{code:02X}" for code in IDX_TYPES)
        raise fail(f"unknown data type code 0x{type_code:02X} (known codes: {known})")
    if ndim == 0:
        raise fail("the header says the array has 0 dimensions")
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise fail(
            f"the header announces {ndim} dimensions ({header_size} header bytes) "
            f"but the file has only {len(data)} bytes"
        )
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">i4", count=ndim, offset=4))
    if any(d <= 0 for d in shape):
        raise fail(f"dimension sizes must be positive, found {shape}")

    dtype = IDX_TYPES[type_code]
    expected = math.prod(shape) * dtype.itemsize
    found = len(data) - header_size
    if found < expected:
        raise fail(
            f"truncated: expected {expected} bytes of data after the header, found {found} "
            f"(shape {shape}, {dtype.itemsize} byte(s) per value)"
        )
    if found > expected:
        raise fail(
            f"{found - expected} unexpected trailing bytes: expected {expected} bytes "
            f"of data after the header, found {found} (shape {shape})"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # a writable copy in native order


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (raw or gzipped) into a NumPy array.

    Parameters
    ----------
    path : str or path-like
        For example ``"~/.cache/explainer/mnist/t10k-labels-idx1-ubyte"``.

    Returns
    -------
    numpy.ndarray
        Shape as in the header, e.g. ``(10000, 28, 28)`` for MNIST test
        images; dtype from the type byte (``uint8`` for MNIST) in native byte
        order. The array is a writable copy.

    Raises
    ------
    DataError
        If the file is missing, empty, not gzip/IDX, or its length does not
        match its header. The message names the file and the problem.
    """
    path = pathlib.Path(path).expanduser()
    return _parse_idx(read_idx_bytes(path), path)


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file (gzip-compressed if ``path`` ends in ``.gz``).

    Parameters
    ----------
    path : str or path-like
        Where to write. Parent folders must exist.
    array : array-like
        At least 1-D, with a dtype IDX can store: uint8, int8, int16, int32,
        float32 or float64. For example ``np.zeros((4, 28, 28), np.uint8)``
        gives a file shaped like four MNIST images.

    Raises
    ------
    TypeError
        If the dtype cannot be stored in IDX.
    ValueError
        If ``array`` is 0-D, has more than 255 dimensions, or an empty axis.
    """
    array = np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in IDX_TYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        allowed = ", ".join(str(dtype) for dtype in codes)
        raise TypeError(f"write_idx: array dtype must be one of {allowed}; got {array.dtype}")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"write_idx: array must have 1 to 255 dimensions; got {array.ndim}")
    if 0 in array.shape:
        raise ValueError(f"write_idx: every dimension must be positive; got shape {array.shape}")
    code = codes[native]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + array.astype(IDX_TYPES[code]).tobytes(order="C")
    path = pathlib.Path(path)
    if path.suffix == ".gz":
        payload = gzip.compress(payload, mtime=0)
    path.write_bytes(payload)
