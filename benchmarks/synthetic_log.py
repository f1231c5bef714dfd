"""Synthetic Mark II lines for benchmarks: a realistic mix of event kinds, about 250 bytes per line.

Quoted values with doubled quotes, Japanese paths and window titles, backslashes, ``"-"`` no-value markers
and a share of zone-less headers, so that every branch of the fast path is exercised. Deterministic for a
given seed. (Tests use committed lines; this is only for measuring speed.)
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

__all__ = ["synthetic_lines", "write_synthetic_log"]

_PROGRAMS = [
    r"C:\Windows\System32\svchost.exe",
    r"C:\Windows\explorer.exe",
    r"C:\Program Files (x86)\Microsoft Office\root\Office16\EXCEL.EXE",
    r"C:\Users\taro.yamada\AppData\Local\Temp\_jsh.exe",
    r"C:\ProgramData\tjigppzrweclnc278\tasksche.exe",
    r"C:\Windows\System32\cmd.exe",
]
_FOLDERS = [r"C:\Users\taro.yamada\Documents", r"D:\共有\報告書", r"C:\Users\花子\デスクトップ", r"D:\transcript"]
_NAMES = ["報告書", "見積書", "transcript", "議事録", "data", "メモ"]
_TITLES = ["無題 - メモ帳", "受信トレイ - Outlook", "Book1 - Excel", "コマンド プロンプト"]


def _guid(rng: random.Random) -> str:
    value = f"{rng.getrandbits(128):032X}"
    return f"{{{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}}}"


def synthetic_lines(seed: int = 2018) -> Iterator[str]:
    """An endless deterministic stream of Mark II lines (without terminators)."""
    rng = random.Random(seed)
    processes = [(_guid(rng), rng.choice(_PROGRAMS)) for _ in range(40)]
    sn = 1
    millis = 0
    while True:
        millis += rng.randrange(1, 400)
        seconds, ms = divmod(millis, 1000)
        minutes, sec = divmod(seconds, 60)
        hours, minute = divmod(minutes, 60)
        stamp = f"03/01/2018 {10 + hours % 12:02d}:{minute:02d}:{sec:02d}.{ms:03d}"
        header = stamp if rng.random() < 0.1 else stamp + " +0900"
        guid, program = rng.choice(processes)
        base = f'{header} sn={sn} evt=%s subEvt=%s com="PC{rng.randrange(1, 5)}" psGUID={guid} psPath="{program}"'
        sn += 1
        kind = rng.random()
        name = f"{rng.choice(_FOLDERS)}\\{rng.choice(_NAMES)}_{rng.randrange(1000)}.docx"
        if kind < 0.30:
            line = (
                base % ("file", "close")
                + f' path="{name}" drvType=HDD read={rng.randrange(100000)} write={rng.randrange(9000)} size={rng.randrange(100000)}'
            )
        elif kind < 0.42:
            line = base % ("file", rng.choice(["create", "del"])) + f' path="{name}" drvType=HDD'
        elif kind < 0.48:
            line = (
                base % ("file", "rename")
                + f' path="{name}" drvType=HDD dstPath="{name}.WNCRY" dstDrv=HDD size={rng.randrange(9000)}'
            )
        elif kind < 0.63:
            sub = rng.choice(["con", "dcon"])
            line = base % ("net", sub) + (
                f" srcIP=172.24.1.{rng.randrange(1, 9)} srcPort={rng.randrange(49152, 65535)}"
                f" dstIP=172.24.1.{rng.randrange(1, 9)} dstPort={rng.choice([445, 80, 443, 139])}"
            )
            if sub == "dcon":
                line += f" recv={rng.randrange(10000)} send={rng.randrange(10000)}"
        elif kind < 0.73:
            line = base % ("reg", "setVal") + (
                r' path="HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Run" entry="Updater"'
                f' valType=REG_SZ valStr="""{program}"" /run" valSize={rng.randrange(200)}'
            )
        elif kind < 0.81:
            parent_guid, parent = rng.choice(processes)
            line = base % ("ps", "start") + (
                f' cmd="cmd.exe /c ""whoami /all > C:\\Users\\taro\\w{rng.randrange(99)}.txt""" parentGUID={parent_guid}'
                f' parentPath="{parent}" sha256={rng.getrandbits(256):064x}'
            )
        elif kind < 0.86:
            line = base % ("ps", "stop") + f' sTime="03/01/2018 10:{rng.randrange(60):02d}:{rng.randrange(60):02d}.000"'
        elif kind < 0.91:
            line = (
                f'{header} sn={sn} evt=session subEvt=loginR com="PC1" usr="taro.yamada" usrDomain="LAB"'
                f' srcCom="-" srcIP="::1" srcPort="-" sessionID={rng.randrange(4)} evtRecID={rng.randrange(90000)}'
            )
        elif kind < 0.96:
            line = base % ("win", "active") + f' winTitle="{rng.choice(_TITLES)}"'
        else:
            line = (
                base % ("net", "webURL")
                + ' url="http://172.24.0.9/a%20b.ps1" decode="http://172.24.0.9/a b.ps1" brType=IE'
            )
        yield line


def write_synthetic_log(path: Path, size: int, seed: int = 2018, newline: bytes = b"\n") -> int:
    """Write at least ``size`` bytes of synthetic lines to ``path``; return the number of lines."""
    count = 0
    written = 0
    lines = synthetic_lines(seed)
    with path.open("wb") as handle:
        while written < size:
            batch = newline.join(next(lines).encode("utf-8") for _ in range(1000)) + newline
            handle.write(batch)
            written += len(batch)
            count += 1000
    return count
