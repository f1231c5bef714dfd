"""Writes wannacry_like.jsonl and wannacry_like.log (the same records): a hand-made WannaCry-like run after
the dataset's presentation slides. Run ``python make_wannacry_like.py`` here to regenerate; the tests read the committed files."""

import json
from pathlib import Path

HERE = Path(__file__).parent
SAMPLE = "24d004a104d4d54034dbcffc2a4b19a11f39008a575aa614ea04703480b1022c"
SAMPLE_PATH = f"D:\\{SAMPLE}.exe"
GUIDS = {
 "EXP": "{6513270E-269E-4D37-B2A7-4DE452E6B438}", "DROP": "{0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0}",
 "SVC": "{11111111-2222-3333-4444-555555555555}", "SVCDROP": "{BECF254A-5C79-4931-9CDF-143505F33B16}",
 "T1": "{A1B2C3D4-E5F6-4711-8899-AABBCCDDEEFF}", "C1": "{C0FFEE00-1234-4321-ABCD-0123456789AB}",
 "T2": "{4F58F9E3-FD37-4FBD-BC44-80AC0E0D1CEB}", "LSASS": "{90C192CF-D3AC-44AF-8F21-DDB66CAD4A26}",
 "WININIT": "{22222222-3333-4444-5555-666666666666}", "DEC": "{D3C0D3C0-0000-4000-8000-00000000DEC0}",
 "PC2SVC": "{77777777-8888-9999-AAAA-BBBBBBBBBBBB}",
}
TASKSCHE = "C:\\ProgramData\\tjigppzrweclnc278\\tasksche.exe"
S32 = "C:\\Windows\\System32"
lines: list[dict[str, object]] = []


def at(second: float) -> str:
    """The ISO time ``second`` seconds after 19:50:00 (+09:00)."""
    minute, rest = divmod(second, 60)
    return f"2018-03-01T19:{50 + int(minute):02d}:{rest:06.3f}+09:00"


def rec(second: float, sn: int, evt: str, sub: str, host: str, guid: str | None, ps_path: str | None, **fields: object) -> None:
    record: dict[str, object] = {"time": at(second), "sn": sn, "evt": evt, "subEvt": sub, "com": host}
    if guid:
        record["psGUID"] = GUIDS[guid]
    if ps_path:
        record["psPath"] = ps_path
    record.update(fields)
    lines.append(record)


rec(0.5, 5, "ps", "start", "PC1", "LSASS", f"{S32}\\lsass.exe", parentGUID=GUIDS["WININIT"], parentPath=f"{S32}\\wininit.exe", cmd=f"{S32}\\lsass.exe")
rec(1.0, 100, "ps", "start", "PC1", "DROP", SAMPLE_PATH, parentGUID=GUIDS["EXP"], parentPath="C:\\Windows\\explorer.exe", cmd=SAMPLE_PATH, sha256=SAMPLE, psUser="taro.yamada", psDomain="PC1", psID=2468)
rec(1.5, 101, "reg", "setVal", "PC1", "SVC", f"{S32}\\services.exe", path="HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\mssecsvc2.0", entry="ImagePath", valType="REG_EXPAND_SZ", valStr=f"{SAMPLE_PATH} -m security")
rec(2.0, 102, "ps", "start", "PC1", "SVCDROP", SAMPLE_PATH, parentGUID=GUIDS["SVC"], parentPath=f"{S32}\\services.exe", cmd=f"{SAMPLE_PATH} -m security", sha256=SAMPLE)
rec(2.2, 103, "file", "create", "PC1", "DROP", SAMPLE_PATH, path="C:\\WINDOWS\\tasksche.exe", drvType="HDD")
rec(2.3, 104, "file", "close", "PC1", "DROP", SAMPLE_PATH, path="C:\\WINDOWS\\tasksche.exe", drvType="HDD", read=0, write=3514368, size=3514368, new=1)
rec(2.4, 110, "file", "close", "PC1", "DROP", SAMPLE_PATH, path="C:\\Users\\taro.yamada\\Documents\\見積書_2018年3月.xlsx", read=48213, write=0, new=0)
GUIDS["INV"] = "{5A5A5A5A-1B1B-4C4C-8D8D-9E9E9E9E9E9E}"
rec(2.6, 112, "ps", "start", "PC1", "INV", "C:\\Users\\taro.yamada\\Desktop\\請求書_2018年3月.exe", parentGUID=GUIDS["EXP"], parentPath="C:\\Windows\\explorer.exe", cmd="\"C:\\Users\\taro.yamada\\Desktop\\請求書_2018年3月.exe\" /q")
rec(2.9, 113, "ps", "stop", "PC1", "INV", "C:\\Users\\taro.yamada\\Desktop\\請求書_2018年3月.exe")
rec(3.0, 105, "ps", "start", "PC1", "T1", "C:\\WINDOWS\\tasksche.exe", parentGUID=GUIDS["DROP"], parentPath=SAMPLE_PATH, cmd="C:\\WINDOWS\\tasksche.exe /i")
rec(3.5, 106, "file", "copy", "PC1", "T1", "C:\\WINDOWS\\tasksche.exe", path="C:\\WINDOWS\\tasksche.exe", dstPath=TASKSCHE)
rec(4.0, 107, "reg", "setVal", "PC1", "SVC", f"{S32}\\services.exe", path="HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\tjigppzrweclnc278", entry="ImagePath", valType="REG_EXPAND_SZ", valStr=f'cmd.exe /c "{TASKSCHE}"')
# out of order: the child's start line comes before its parent's
rec(4.6, 109, "ps", "start", "PC1", "T2", TASKSCHE, parentGUID=GUIDS["C1"], parentPath=f"{S32}\\cmd.exe", cmd=TASKSCHE)
rec(4.5, 108, "ps", "start", "PC1", "C1", f"{S32}\\cmd.exe", parentGUID=GUIDS["SVC"], parentPath=f"{S32}\\services.exe", cmd=f'cmd.exe /c "{TASKSCHE}"')
rec(4.8, 111, "ps", "stop", "PC1", "T1", "C:\\WINDOWS\\tasksche.exe")
rec(5.0, 120, "net", "con", "PC1", "SVCDROP", SAMPLE_PATH, srcIP="172.24.1.1", srcPort=49624, dstIP="172.24.1.2", dstPort=445)
rec(5.1, 121, "net", "dcon", "PC1", "SVCDROP", SAMPLE_PATH, srcIP="172.24.1.1", srcPort=49624, dstIP="172.24.1.2", dstPort=445, recv=132, send=72)
rec(5.2, 122, "net", "con", "PC1", "SVCDROP", SAMPLE_PATH, srcIP="172.24.1.1", srcPort=49625, dstIP="172.24.1.2", dstPort=445)
rec(5.3, 123, "net", "dcon", "PC1", "SVCDROP", SAMPLE_PATH, srcIP="172.24.1.1", srcPort=49625, dstIP="172.24.1.2", dstPort=445, recv=637, send=516)
rec(5.4, 124, "net", "con", "PC1", "SVCDROP", SAMPLE_PATH, srcIP="172.24.1.1", srcPort=49626, dstIP="172.24.1.3", dstPort=445)
rec(6.0, 130, "file", "open", "PC1", "T2", TASKSCHE, path="D:\\transcript.txt")
rec(6.1, 131, "file", "close", "PC1", "T2", TASKSCHE, path="D:\\transcript.txt", drvType="HDD", read=7120, write=0, size=7112)
rec(6.2, 132, "file", "create", "PC1", "T2", TASKSCHE, path="D:\\transcript.txt.WNCRYT", drvType="HDD")
rec(6.3, 133, "file", "close", "PC1", "T2", TASKSCHE, path="D:\\transcript.txt.WNCRYT", drvType="HDD", read=0, write=7400, size=7400)
rec(6.4, 134, "file", "rename", "PC1", "T2", TASKSCHE, path="D:\\transcript.txt.WNCRYT", dstPath="D:\\transcript.txt.WNCRY", drvType="HDD")
rec(6.5, 135, "file", "del", "PC1", "T2", TASKSCHE, path="D:\\transcript.txt", drvType="HDD")
rec(6.6, 136, "file", "rename", "PC1", "T2", TASKSCHE, path="D:\\資料\\見積書.xlsx.WNCRYT", dstPath="D:\\資料\\見積書.xlsx.WNCRY", drvType="HDD")
rec(7.0, 140, "ps", "inject", "PC1", "T2", TASKSCHE, api="OpenProcess", tpsGUID=GUIDS["LSASS"], tpsPath=f"{S32}\\lsass.exe")
rec(7.1, 141, "ps", "guardInject", "PC1", "T2", TASKSCHE, api="OpenProcess", tpsGUID=GUIDS["LSASS"], tpsPath=f"{S32}\\lsass.exe")
# 2018-style start without parentGUID: linked through parentPath to the live tasksche.exe
rec(8.0, 150, "ps", "start", "PC1", "DEC", "C:\\ProgramData\\tjigppzrweclnc278\\@WanaDecryptor@.exe", parentPath=TASKSCHE, cmd="@WanaDecryptor@.exe")
rec(8.5, 151, "win", "active", "PC1", "DEC", "C:\\ProgramData\\tjigppzrweclnc278\\@WanaDecryptor@.exe", winTitle="Wana Decrypt0r 2.0")
rec(9.0, 160, "ps", "stop", "PC1", "C1", f"{S32}\\cmd.exe")
lines.append({"time": at(9.5), "sn": 170, "evt": "session", "subEvt": "logout", "com": "PC1", "usr": "taro.yamada"})
# another host reuses T2's GUID for a different process
lines.append({"time": at(5.45), "sn": 2012, "evt": "ps", "subEvt": "start", "com": "PC2", "psGUID": GUIDS["T2"], "psPath": f"{S32}\\svchost.exe", "parentGUID": GUIDS["PC2SVC"], "parentPath": f"{S32}\\services.exe", "cmd": f"{S32}\\svchost.exe -k netsvcs"})
lines.append({"time": at(5.5), "sn": 2013, "evt": "net", "subEvt": "acpt", "com": "PC2", "psGUID": GUIDS["T2"], "psPath": f"{S32}\\svchost.exe", "srcIP": "172.24.1.1", "srcPort": 49625, "dstIP": "172.24.1.2", "dstPort": 445})
with open(HERE / "wannacry_like.jsonl", "w", encoding="utf-8", newline="\n") as handle:
    handle.writelines(json.dumps(record, ensure_ascii=False) + "\n" for record in lines)

BARE = {"evt", "subEvt", "psGUID", "parentGUID", "tpsGUID", "srcIP", "dstIP", "sha256", "api", "drvType", "valType"}


def header(iso: str) -> str:
    """``2018-03-01T19:50:00.500+09:00`` → ``03/01/2018 19:50:00.500 +0900`` (the Mark II header)."""
    date, rest = iso.split("T")
    year, month, day = date.split("-")
    return f"{month}/{day}/{year} {rest[:12]} {rest[12:].replace(':', '')}"


def mark_ii_line(record: dict[str, object]) -> str:
    fields = []
    for key, value in record.items():
        if key == "time":
            continue
        if isinstance(value, int) or key in BARE:
            fields.append(f"{key}={value}")
        else:
            fields.append(key + '="' + str(value).replace('"', '""') + '"')
    return header(str(record["time"])) + " " + " ".join(fields) + "\n"


with open(HERE / "wannacry_like.log", "w", encoding="utf-8", newline="\r\n") as handle:
    handle.writelines(mark_ii_line(record) for record in lines)
