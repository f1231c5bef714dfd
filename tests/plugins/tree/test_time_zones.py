"""``mk2ds tree`` reads zone-less logs of a distribution in their Sysinfo time zone (``--since``/``--until``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

LOG = (
    '03/27/2018 19:44:53.926 sn=1 evt=ps subEvt=start com="PC1" psGUID={AAAAAAAA-0000-0000-0000-000000000001}'
    ' psPath="C:\\Windows\\explorer.exe" parentGUID={AAAAAAAA-0000-0000-0000-000000000000} parentPath="C:\\Windows\\userinit.exe"\n'
)


def test_since_uses_the_sysinfo_time_zone(
    tmp_path: Path, run_cli: Callable[..., Any], make_distribution: Callable[[Path], None]
) -> None:
    dist = tmp_path / "dist"
    make_distribution(dist)
    inside = dist / "MK2Log" / "OlympicDestroyer" / "PC1.log"
    inside.write_text(LOG, encoding="utf-8")
    alone = tmp_path / "PC1.log"
    alone.write_text(LOG, encoding="utf-8")
    # 19:44:53 at +09:00 is 10:44:53Z: after 10:00Z. Read as UTC (no evidence) it would be after 19:00Z too.
    window = ["--since", "2018-03-27T10:40:00Z", "--until", "2018-03-27T10:50:00Z", "--format", "text"]
    for arguments in ([inside], [alone, "--dataset", dist]):
        result = run_cli("tree", *arguments, *window)
        assert result.code == 0 and "explorer.exe" in result.out, result.out + result.err
    result = run_cli("tree", alone, *window)
    assert result.code == 0 and "explorer.exe" not in result.out
