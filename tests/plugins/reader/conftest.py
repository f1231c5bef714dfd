"""Every reader test runs on both paths: the compiled extension (when built) and pure Python, the reference."""

from __future__ import annotations

import pytest

from mk2ds.plugins.reader import compiled


@pytest.fixture(autouse=True, params=["compiled", "pure"])
def reader_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The path the readers created in the test use; ``compiled`` is skipped when the extension is not active."""
    if request.param == "compiled":
        if compiled.compiled_module() is None:
            pytest.skip(f"compiled path not active: {compiled.reader_path()}")
    else:
        monkeypatch.setattr(compiled, "_MODULE", None)
    return str(request.param)
