"""The contents of the built-in sample distribution, as bytes: samples, List.xlsx, zips, Sysinfo, texts.

A helper library of :mod:`mk2ds.plugins.synthetic` (no hooks). Every function is deterministic: the
same arguments give the same bytes, including the xlsx and zip containers (fixed entry times, and for the
AES zips a salt derived from the content instead of a random one).

The samples are harmless: the PE files are built by :func:`mk2ds.plugins.synthetic.pe_builder.build_pe` with a family's
typical imports and a single ``ret`` as code; the script sample is comments and one string.
"""

from __future__ import annotations

import functools
import hashlib
import io
import zipfile
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from mk2ds.plugins.pe.impfuzzy import impfuzzy_of_bytes
from mk2ds.plugins.synthetic.pe_builder import SECTION_READONLY, Section, build_pe
from mk2ds.plugins.synthetic.world import Host

__all__ = [
    "FIXED_ZIP_TIME",
    "LIST_COLUMNS",
    "PASSWORD",
    "encrypted_zip",
    "impfuzzy_text",
    "list_xlsx",
    "pe_sample",
    "pefile_text",
    "script_sample",
    "systeminfo_text",
    "w32tm_text",
]

PASSWORD = b"infected"
FIXED_ZIP_TIME = (2018, 3, 30, 12, 0, 0)
FIXED_DOCUMENT_TIME = datetime(2018, 3, 30, 12, 0, 0)
LIST_COLUMNS = ("No.", "SHA256", "MD5", "拡張子", "ウイルス対策ベンダーのラベル", "参照URL", "Verboseログ", "レポート")

#: Typical imports per family (names as the DLLs export them; ints are ordinals).
IMPORTS: dict[str, list[tuple[str, list[str | int]]]] = {
    "wannacry": [
        (
            "KERNEL32.dll",
            [
                "GetModuleFileNameA",
                "CreateFileA",
                "ReadFile",
                "WriteFile",
                "CloseHandle",
                "CreateProcessA",
                "GetFileAttributesW",
                "MoveFileExW",
                "Sleep",
            ],
        ),
        (
            "ADVAPI32.dll",
            [
                "OpenSCManagerA",
                "CreateServiceA",
                "StartServiceA",
                "StartServiceCtrlDispatcherA",
                "CryptAcquireContextA",
                "CryptGenRandom",
            ],
        ),
        ("WS2_32.dll", [115, 23, 4, 16, 19, 3, 9, 11]),
        ("iphlpapi.dll", ["GetAdaptersInfo", "GetPerAdapterInfo"]),
        ("MSVCRT.dll", ["sprintf", "strncpy", "rand", "srand", "malloc", "free"]),
    ],
    "olympic": [
        (
            "KERNEL32.dll",
            [
                "CreateProcessW",
                "CreateNamedPipeW",
                "ConnectNamedPipe",
                "WriteFile",
                "ReadFile",
                "GetTempPathW",
                "DeleteFileW",
            ],
        ),
        (
            "ADVAPI32.dll",
            [
                "OpenSCManagerW",
                "OpenServiceW",
                "ChangeServiceConfigW",
                "EnumServicesStatusW",
                "CreateProcessWithLogonW",
            ],
        ),
        ("NETAPI32.dll", ["NetShareEnum", "NetApiBufferFree"]),
        ("MPR.dll", ["WNetAddConnection2W", "WNetCancelConnection2W"]),
        ("SHELL32.dll", ["ShellExecuteW"]),
    ],
    "dropper": [
        (
            "KERNEL32.dll",
            [
                "CreateFileA",
                "WriteFile",
                "CloseHandle",
                "CreateProcessA",
                "VirtualAllocEx",
                "WriteProcessMemory",
                "CreateRemoteThread",
                "OpenProcess",
            ],
        ),
        ("ADVAPI32.dll", ["RegOpenKeyExA", "RegSetValueExA", "RegCloseKey"]),
        (
            "WININET.dll",
            ["InternetOpenA", "InternetConnectA", "HttpOpenRequestA", "HttpSendRequestA", "InternetReadFile"],
        ),
        ("USER32.dll", ["GetForegroundWindow", "GetWindowTextW"]),
    ],
    "petya": [
        (
            "KERNEL32.dll",
            ["CreateFileW", "DeviceIoControl", "WriteFile", "GetTempPathW", "CreateProcessW", "ExitProcess"],
        ),
        (
            "ADVAPI32.dll",
            [
                "CryptAcquireContextW",
                "CryptGenKey",
                "CryptEncrypt",
                "AdjustTokenPrivileges",
                "InitiateSystemShutdownExW",
            ],
        ),
        ("NETAPI32.dll", ["NetServerEnum", "NetServerGetInfo", "NetApiBufferFree"]),
        ("IPHLPAPI.DLL", ["GetExtendedTcpTable", "GetIpNetTable"]),
        ("WS2_32.dll", [3, 4, 16, 19, 23, 115]),
        ("CRYPT32.dll", ["CryptStringToBinaryW", "CryptBinaryToStringW"]),
    ],
    "stonedrill": [
        (
            "KERNEL32.dll",
            [
                "CreateProcessA",
                "VirtualAllocEx",
                "WriteProcessMemory",
                "ResumeThread",
                "FindFirstFileW",
                "FindNextFileW",
                "DeleteFileW",
            ],
        ),
        ("ADVAPI32.dll", ["RegOpenKeyExW", "RegQueryValueExW"]),
        ("USER32.dll", ["wsprintfW"]),
        ("SHLWAPI.dll", ["PathFindExtensionW"]),
    ],
}


def pe_sample(family: str, note: str, *, dll: bool = False, timestamp: int = 0x58F00000) -> bytes:
    """A harmless PE file with the family's typical imports; ``note`` (kept in ``.rdata2``) makes it unique."""
    text = f"mk2ds harmless sample ({family}-like imports, no code): {note}".encode("ascii")
    machine: Literal["i386", "amd64"] = "i386" if family in ("wannacry", "olympic") else "amd64"
    return build_pe(
        machine=machine,
        imports=IMPORTS[family],
        dll=dll,
        timestamp=timestamp,
        sections=[Section(".rdata2", text, SECTION_READONLY)],
    )


def script_sample(extension: str, note: str) -> bytes:
    """A harmless script that reads like the first stage of a downloader but runs nothing."""
    comment = "'" if extension in ("vbs", "vbe") else "//"
    lines = [
        f"{comment} mk2ds harmless sample script ({extension}): {note}",
        f"{comment} 本ファイルは mk2ds が生成した無害なサンプルです。何も実行しません。",
        f"{comment} The logs show what a downloader of this kind does; this file only names the address.",
        'Dim url: url = "http://172.24.0.9/a.ps1"' if comment == "'" else 'var url = "http://172.24.0.9/a.ps1";',
        "",
    ]
    return "\r\n".join(lines).encode("utf-8")


def impfuzzy_text(data: bytes) -> bytes:
    """The ``impfuzzy/`` file of a PE sample: its impfuzzy hash on one line."""
    return (impfuzzy_of_bytes(data)[0] + "\n").encode("ascii")


def pefile_text(data: bytes) -> bytes:
    """The ``PEfile/`` file of a PE sample: pefile's ``dump_info()`` text."""
    import pefile

    pe = pefile.PE(data=data)
    return str(pe.dump_info()).encode("utf-8")


class _FixedTimeZipFile(zipfile.ZipFile):
    """A ZipFile whose entries named by string get a fixed time (openpyxl writes through ``writestr``)."""

    def writestr(
        self,
        zinfo_or_arcname: str | zipfile.ZipInfo,
        data: Any,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            info = zipfile.ZipInfo(zinfo_or_arcname, date_time=FIXED_ZIP_TIME)
            info.compress_type = self.compression
            info.external_attr = 0o644 << 16
            zinfo_or_arcname = info
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(
        self, filename: Any, arcname: Any = None, compress_type: int | None = None, compresslevel: int | None = None
    ) -> None:
        with open(filename, "rb") as handle:  # openpyxl writes worksheets through temporary files
            self.writestr(str(arcname or filename), handle.read(), compress_type, compresslevel)


def list_xlsx(rows: Sequence[Sequence[Any]], title: str) -> bytes:
    """List.xlsx: a title row, an empty row, the header row (:data:`LIST_COLUMNS`), then ``rows``."""
    import openpyxl
    from openpyxl.styles import Font
    from openpyxl.writer.excel import ExcelWriter

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "マルウェア一覧"
    sheet.append([title])
    sheet.append([])
    sheet.append(list(LIST_COLUMNS))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
    for column, width in zip("ABCDEFGH", (6, 68, 36, 8, 48, 44, 12, 10), strict=True):
        sheet.column_dimensions[column].width = width
    workbook.properties.creator = "mk2ds"
    workbook.properties.created = FIXED_DOCUMENT_TIME
    workbook.properties.modified = FIXED_DOCUMENT_TIME
    buffer = io.BytesIO()
    # openpyxl's save_workbook stamps "modified" with the clock and ZipFile.writestr stamps entry times:
    # write through ExcelWriter into a zip that fixes the entry times instead.
    with _FixedTimeZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).write_data()
    return buffer.getvalue()


@functools.lru_cache(maxsize=1)
def _salted_zip_class() -> Any:
    """pyzipper's AESZipFile with reproducible salts, defined on first use (pyzipper loads only when needed)."""
    from mk2ds.plugins.pe.aes import pyzipper, zipfile_aes  # never import pyzipper directly (see aes)

    class _SaltedEncrypter(zipfile_aes.AESZipEncrypter):
        """WinZip AES with a salt derived from the entry (pyzipper draws a random one), for reproducible zips.

        Reusing a salt only matters for secrets; the password of sample zips is public by convention.
        """

        def __init__(self, pwd: bytes, salt: bytes, **options: Any) -> None:
            super().__init__(pwd, **options)
            key_length = {1: 16, 2: 24, 3: 32}[self.aes_strength]
            self.salt = salt[: self.salt_length]
            material = zipfile_aes.PBKDF2(pwd, self.salt, count=1000, dkLen=2 * key_length + 2)
            self.encpwdverify = material[2 * key_length :]
            self.encrypter = zipfile_aes.AES.new(
                material[:key_length],
                zipfile_aes.AES.MODE_CTR,
                counter=zipfile_aes.Counter.new(nbits=128, little_endian=True),
            )
            self.hmac = zipfile_aes.HMAC.new(material[key_length : 2 * key_length], digestmod=zipfile_aes.SHA1Hash())

    class _SaltedAESZipFile(pyzipper.AESZipFile):
        salt_seed = b""

        def get_encrypter(self) -> zipfile_aes.AESZipEncrypter:
            salt = hashlib.sha256(b"mk2ds-sample-zip:" + self.salt_seed).digest()
            return _SaltedEncrypter(self.pwd, salt, **(self.encryption_kwargs or {}))

    return _SaltedAESZipFile


def encrypted_zip(members: Sequence[tuple[str, bytes]], salt_seed: bytes, password: bytes = PASSWORD) -> bytes:
    """A zip with each member encrypted (WinZip AES-256, password ``infected``), reproducible byte for byte."""
    import pyzipper

    buffer = io.BytesIO()
    with _salted_zip_class()(buffer, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES) as archive:
        archive.setpassword(password)
        archive.salt_seed = salt_seed
        for name, data in members:
            info = archive.zipinfo_cls(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = pyzipper.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _windows_text(lines: Sequence[str]) -> bytes:
    """Japanese Windows console output: CP932, CRLF."""
    return ("\r\n".join(lines) + "\r\n").encode("cp932")


def _date(moment: datetime) -> str:
    return f"{moment.year:04d}/{moment.month:02d}/{moment.day:02d}, {moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"


def systeminfo_text(
    host: Host, run_start: datetime, hotfixes: Sequence[str] = ("KB4054590", "KB4056890", "KB4074595")
) -> bytes:
    """``systeminfo.exe`` output of a Japanese Windows 10 PC, as collected before the run."""
    booted = run_start - timedelta(minutes=7, seconds=13)
    installed = datetime(2017, 11, 20, 10, 12, 33)
    product = hashlib.sha256(host.name.encode()).hexdigest()
    label = 25
    rows = [
        ("ホスト名", host.name),
        ("OS 名", "Microsoft Windows 10 Pro"),
        ("OS バージョン", "10.0.14393 N/A ビルド 14393"),
        ("OS 製造元", "Microsoft Corporation"),
        ("OS 構成", "メンバー ワークステーション"),
        ("OS ビルドの種類", "Multiprocessor Free"),
        ("登録されている所有者", host.user),
        ("登録されている組織", ""),
        ("プロダクト ID", f"00330-{int(product[:5], 16) % 100000:05d}-00000-AA{int(product[5:8], 16) % 1000:03d}"),
        ("最初のインストール日付", _date(installed)),
        ("システム起動時間", _date(booted)),
        ("システム製造元", "LENOVO"),
        ("システム モデル", "ThinkCentre M710s"),
        ("システムの種類", "x64-based PC"),
        ("プロセッサ", "1 プロセッサインストール済みです。"),
        ("", "[01]: Intel64 Family 6 Model 158 Stepping 9 GenuineIntel ~3408 Mhz"),
        ("BIOS バージョン", "LENOVO M1AKT2AA, 2017/06/08"),
        ("Windows ディレクトリ", "C:\\Windows"),
        ("システム ディレクトリ", "C:\\Windows\\system32"),
        ("起動デバイス", "\\Device\\HarddiskVolume1"),
        ("システム ロケール", "ja;日本語"),
        ("入力ロケール", "ja;日本語"),
        ("タイム ゾーン", "(UTC+09:00) 大阪、札幌、東京"),
        ("物理メモリの合計", "8,077 MB"),
        ("利用できる物理メモリ", "5,412 MB"),
        ("仮想メモリ: 最大サイズ", "9,357 MB"),
        ("仮想メモリ: 利用可能", "6,204 MB"),
        ("仮想メモリ: 使用中", "3,153 MB"),
        ("ページ ファイルの場所", "C:\\pagefile.sys"),
        ("ドメイン", "LAB.LOCAL"),
        ("ログオン サーバー", "\\\\DC01"),
        ("ホットフィックス", f"{len(hotfixes)} ホットフィックスがインストールされています。"),
        *[("", f"[{index:02d}]: {name}") for index, name in enumerate(hotfixes, start=1)],
        ("ネットワーク カード", "1 NIC(s) インストール済みです。"),
        ("", "[01]: Intel(R) Ethernet Connection (2) I219-LM"),
        ("", "      接続名:      イーサネット"),
        ("", "      DHCP が有効: いいえ"),
        ("", "      IP アドレス"),
        ("", f"      [01]: {host.ip}"),
        ("", f"      [02]: {host.ipv6}"),
        ("Hyper-V の要件", "VM モニター モード拡張機能: はい"),
    ]
    lines = [""]
    for name, value in rows:
        if not name:
            lines.append(" " * label + value)
            continue
        padding = label - len(name.encode("cp932")) - 1
        lines.append(f"{name}:{' ' * max(1, padding)}{value}".rstrip())
    return _windows_text(lines)


def w32tm_text(host: Host, run_start: datetime, offsets_ms: Sequence[float]) -> bytes:
    """``w32tm /stripchart /computer:172.24.0.1 /samples:N`` output (Japanese), taken before the run."""
    moment = run_start - timedelta(minutes=2)
    lines = ["172.24.0.1 を追跡しています。", f"現在の時刻は {moment:%Y/%m/%d %H:%M:%S} です。"]
    for index, offset in enumerate(offsets_ms):
        when = moment + timedelta(seconds=2 * index)
        delay = 0.35 + (index % 3) * 0.07
        bar = " " * 26 + "*" + " " * 26
        lines.append(
            f"{when:%H:%M:%S} d:+00.{int(delay * 10000):07d}s o:{'+' if offset >= 0 else '-'}00.{int(abs(offset) * 10000):07d}s  [{bar}]"
        )
    return _windows_text(lines)
