"""Reads TerMinator parameter archives (.tpar; docs/archive-format.md).

    entries = read_tpar(path)   # {name: numpy array (a view of the file)}

Checks the magic, version and bounds; checksums are left to
`terminator-archive verify`, which has XXH3.
"""
import struct

import numpy as np

_DTYPES = {1: np.float32, 2: np.float16, 4: np.int8, 5: np.uint8,
           6: np.int32, 7: np.int64, 8: np.uint8}


class TparError(Exception):
    pass


def read_tpar(path):
    data = np.memmap(path, dtype=np.uint8, mode="r")
    if data.size < 64 or bytes(data[:8]) != b"TMNPARAM":
        raise TparError(f"{path}: not a parameter archive (bad magic or "
                        f"shorter than the 64-byte header)")
    version, _flags, count, index_offset, index_size = struct.unpack_from(
        "<IIQQQ", bytes(data[8:40]))
    if version != 1:
        raise TparError(f"{path}: archive version {version}, expected 1")
    if index_offset + index_size > data.size:
        raise TparError(f"{path}: the index runs past the end of the file; "
                        f"the archive is truncated")
    index = bytes(data[index_offset:index_offset + index_size])
    pos, out = 0, {}
    for _ in range(count):
        (name_len,) = struct.unpack_from("<H", index, pos)
        pos += 2
        name = index[pos:pos + name_len].decode()
        pos += name_len
        dtype, rank = index[pos], index[pos + 1]
        pos += 2
        dims = struct.unpack_from(f"<{rank}Q", index, pos)
        pos += 8 * rank
        offset, nbytes, _checksum = struct.unpack_from("<QQQ", index, pos)
        pos += 24
        if dtype not in _DTYPES or offset + nbytes > data.size:
            raise TparError(f"{path}: entry '{name}' has dtype {dtype} or "
                            f"runs past the end of the file")
        raw = data[offset:offset + nbytes]
        arr = raw.view(_DTYPES[dtype])
        out[name] = arr if dtype == 8 else arr.reshape(dims)
    return out
