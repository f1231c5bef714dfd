"""pyzipper (WinZip AES zips), loaded without running any program.

pycryptodomex, which pyzipper uses for AES, loads its C code through ctypes when cffi is not installed, and
first calls :func:`platform.architecture`, which runs ``file -b <python>`` found through ``PATH``. mk2ds runs
next to live malware and must never start a program while it reads samples, so the answer is given before
the import: the bit width of this interpreter and the linkage that only matters on Windows. Import pyzipper
from here, never directly.
"""

from __future__ import annotations

import os
import struct


def _answer_architecture_question() -> None:
    try:
        from Cryptodome.Util import _raw_api
    except ImportError:  # another pycryptodomex layout: nothing known to pre-answer
        return
    cached = getattr(_raw_api, "cached_architecture", None)
    if isinstance(cached, list) and not cached:
        cached[:] = [f"{struct.calcsize('P') * 8}bit", "WindowsPE" if os.name == "nt" else "ELF"]


_answer_architecture_question()

import pyzipper  # noqa: E402 - only after the answer above
from pyzipper import zipfile_aes  # noqa: E402
from pyzipper.zipfile import BadZipFile  # noqa: E402

__all__ = ["BadZipFile", "pyzipper", "zipfile_aes"]
