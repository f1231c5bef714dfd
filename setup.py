"""The optional compiled fast path of the reader (``mk2ds.plugins.reader._speedups``), built like PyYAML's.

Everything else about the package is in ``pyproject.toml``; this file only declares the C extension. Its build is
optional: without a C compiler (or Python headers) the build prints a warning and the package installs without
it, and the reader uses its pure-Python path. ``MK2DS_NO_EXTENSIONS=1`` skips the build on purpose.
``MK2DS_REQUIRE_EXTENSIONS=1`` makes a failed build an error (the sanitizer run uses it).
"""

from __future__ import annotations

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip() not in ("", "0")


class OptionalBuildExt(build_ext):
    """A ``build_ext`` that warns and goes on when the extension cannot be compiled."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as error:  # noqa: BLE001 - distutils raises several unrelated types here
            self._skipped(error)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as error:  # noqa: BLE001
            self._skipped(error)

    @staticmethod
    def _skipped(error: Exception) -> None:
        if _flag("MK2DS_REQUIRE_EXTENSIONS"):
            raise error
        print(f"WARNING: the compiled reader was not built ({error}); mk2ds uses its pure-Python path", file=sys.stderr)


extensions = []
if not _flag("MK2DS_NO_EXTENSIONS") and sys.implementation.name == "cpython":
    extensions.append(
        Extension(
            "mk2ds.plugins.reader._speedups",
            ["plugins/reader/_speedups.c"],
            optional=not _flag("MK2DS_REQUIRE_EXTENSIONS"),
        )
    )

setup(ext_modules=extensions, cmdclass={"build_ext": OptionalBuildExt})
