"""Handing memory that was freed back to the system, so that it leaves the resident set."""

import ctypes
import ctypes.util


def release_freed_memory() -> None:
    """glibc keeps freed heap memory for the process to reuse rather than return it; loading a
    model frees much at once (the float32 decoder layers an ONNX Runtime engine does not keep,
    the graphs ONNX Runtime parsed), so give it back: tens of MB of a serving process's resident
    memory. A no-op where the C library is not glibc."""
    name = ctypes.util.find_library("c")
    if name is None:
        return
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    trim(0)
