"""The IDX reader and writer: round trips, and a helpful error for every kind of broken file."""

import gzip

import numpy as np
import pytest

from explainer.data.idx import IDX_TYPES, read_idx, read_idx_bytes, write_idx
from explainer.errors import DataError

DTYPES = ["u1", "i1", "i2", "i4", "f4", "f8"]


def _header(type_code: int, shape: tuple) -> bytes:
    return bytes([0, 0, type_code, len(shape)]) + np.asarray(shape, dtype=">u4").tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_round_trip_every_type_raw_and_gzip(tmp_path, dtype, suffix):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal((4, 3, 5)) * 100).astype(dtype)
    path = tmp_path / f"x-idx3{suffix}"
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype)  # native byte order, not '>'
    assert back.dtype.isnative
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable and back.flags.c_contiguous
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")


def test_mnist_like_header_is_what_the_format_says(tmp_path):
    images = np.arange(4 * 28 * 28, dtype=np.uint8).reshape(4, 28, 28)
    path = tmp_path / "images-idx3-ubyte"
    write_idx(path, images)
    data = path.read_bytes()
    # 00 00 | 08 = unsigned byte | 03 dims | 4, 28, 28 as big-endian uint32
    assert data[:16].hex() == "00000803" "00000004" "0000001c" "0000001c"
    assert len(data) == 16 + 4 * 28 * 28


def test_big_endian_values_are_decoded(tmp_path):
    path = tmp_path / "ints-idx1"
    path.write_bytes(_header(0x0C, (2,)) + bytes.fromhex("00000001 fffffffe"))
    np.testing.assert_array_equal(read_idx(path), np.array([1, -2], dtype=np.int32))


def test_gzip_is_detected_by_content_not_name(tmp_path):
    array = np.array([[1, 2], [3, 4]], dtype=np.uint8)
    raw = tmp_path / "raw-idx2"
    write_idx(raw, array)
    disguised = tmp_path / "looks-raw-idx2"  # gzipped bytes, no .gz suffix
    disguised.write_bytes(gzip.compress(raw.read_bytes()))
    np.testing.assert_array_equal(read_idx(disguised), array)
    assert read_idx_bytes(disguised) == raw.read_bytes()
    named_gz_but_raw = tmp_path / "raw-idx2.gz"
    named_gz_but_raw.write_bytes(raw.read_bytes())
    np.testing.assert_array_equal(read_idx(named_gz_but_raw), array)


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "empty"),
        (b"\x00\x00", "too short"),
        (b"\x12\x34\x08\x01" + b"\x00\x00\x00\x01" + b"\x07", "bad magic number"),
        (b"\x00\x00\x07\x01" + b"\x00\x00\x00\x01" + b"\x07", "unknown data type code 0x07"),
        (b"\x00\x00\x08\x00", "0 dimensions"),
        (b"\x00\x00\x08\x02" + b"\x00\x00\x00\x01", "announces 2 dimensions"),
        (_header(0x08, (2, 0)), "must be positive"),
        (b"\x00\x00\x08\x01" + b"\xff\xff\xff\xff", "must be positive"),
        (_header(0x08, (2, 3)) + bytes(5), "expected 6 bytes of data after the header, found 5"),
        (_header(0x0B, (3,)) + bytes(4), "expected 6 bytes of data after the header, found 4"),
        (_header(0x08, (2, 3)) + bytes(8), "2 unexpected trailing bytes"),
        (b"\x1f\x8b\x08\x00garbage", "cannot be decompressed"),
    ],
    ids=["empty", "short", "magic", "type", "ndim0", "header-cut", "zero-dim", "negative-dim",
         "truncated", "truncated-int16", "trailing", "broken-gzip"],
)
def test_malformed_files_name_the_file_the_problem_and_the_fix(tmp_path, content, expected):
    path = tmp_path / "broken-idx"
    path.write_bytes(content)
    with pytest.raises(DataError) as info:
        read_idx(path)
    message = str(info.value)
    assert expected in message
    assert str(path) in message
    assert "delete it" in message and "explainer data fetch mnist" in message


def test_gzipped_truncated_file_is_reported_like_a_raw_one(tmp_path):
    path = tmp_path / "cut-idx1.gz"
    path.write_bytes(gzip.compress(_header(0x08, (10,)) + bytes(7)))
    with pytest.raises(DataError, match="expected 10 bytes of data after the header, found 7"):
        read_idx(path)


def test_missing_file_and_folder_are_data_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_idx(tmp_path / "nope")
    with pytest.raises(DataError, match="is a folder, not a file"):
        read_idx(tmp_path)


def test_write_refuses_what_idx_cannot_hold(tmp_path):
    with pytest.raises(TypeError, match="int64"):
        write_idx(tmp_path / "a", np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="1 to 255 dimensions"):
        write_idx(tmp_path / "b", np.array(3, dtype=np.uint8))
    with pytest.raises(ValueError, match=r"shape \(0, 2\)"):
        write_idx(tmp_path / "c", np.zeros((0, 2), dtype=np.uint8))


def test_type_table_matches_the_format():
    assert {code: dtype.str for code, dtype in IDX_TYPES.items()} == {
        0x08: "|u1", 0x09: "|i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
