"""The well-known executables of the synthetic hosts (Windows, Office, browsers) and what a 2018 ``ps/start``
says about their images: version information and signature.

A helper library of :mod:`mk2ds.plugins.synthetic.world`, which derives the images' hashes.
"""

from __future__ import annotations

from mk2ds.plugins.synthetic.host import quote

__all__ = ["KNOWN_BINARIES", "VENDORS", "WINDOWS_VENDOR", "known_image_fields"]


#: Well-known executables: path → (file description, version, size). Hashes derive from the path, so one
#: binary has the same hash in every log and on every host, as real system files do.
KNOWN_BINARIES: dict[str, tuple[str, str, int]] = {
    "C:\\Windows\\explorer.exe": ("エクスプローラー", "10.0.14393.2007", 4672512),
    "C:\\Windows\\System32\\svchost.exe": ("Windows サービスのホスト プロセス", "10.0.14393.0", 47496),
    "C:\\Windows\\System32\\services.exe": ("サービスとコントローラー アプリ", "10.0.14393.1770", 415232),
    "C:\\Windows\\System32\\cmd.exe": ("Windows コマンド プロセッサ", "10.0.14393.0", 280576),
    "C:\\Windows\\System32\\conhost.exe": ("コンソール ウィンドウ ホスト", "10.0.14393.0", 627200),
    "C:\\Windows\\System32\\notepad.exe": ("メモ帳", "10.0.14393.0", 242176),
    "C:\\Windows\\System32\\rundll32.exe": ("Windows ホスト プロセス (Rundll32)", "10.0.14393.0", 70656),
    "C:\\Windows\\System32\\WScript.exe": ("Microsoft Windows Based Script Host", "5.812.10240.16384", 172032),
    "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe": ("Windows PowerShell", "10.0.14393.0", 452608),
    "C:\\Windows\\System32\\vssadmin.exe": (
        "ボリューム シャドウ コピー サービス管理コマンド ライン ツール",
        "10.0.14393.0",
        131072,
    ),
    "C:\\Windows\\System32\\wbem\\WMIC.exe": ("WMI Commandline Utility", "10.0.14393.0", 506880),
    "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe": ("WMI Provider Host", "10.0.14393.0", 375808),
    "C:\\Windows\\System32\\bcdedit.exe": ("ブート構成データ エディター", "10.0.14393.0", 355328),
    "C:\\Windows\\System32\\wbadmin.exe": ("コマンド ライン インターフェイス", "10.0.14393.0", 334336),
    "C:\\Windows\\System32\\wevtutil.exe": ("Eventing Command Line Utility", "10.0.14393.0", 205824),
    "C:\\Windows\\System32\\schtasks.exe": ("タスク スケジューラ構成ツール", "10.0.14393.0", 195072),
    "C:\\Windows\\System32\\fsutil.exe": ("fsutil.exe", "10.0.14393.0", 164352),
    "C:\\Windows\\System32\\attrib.exe": ("属性ユーティリティ", "10.0.14393.0", 20480),
    "C:\\Windows\\System32\\icacls.exe": ("icacls", "10.0.14393.0", 34304),
    "C:\\Windows\\System32\\netsh.exe": ("ネットワーク コマンド シェル", "10.0.14393.0", 93184),
    "C:\\Windows\\System32\\ipconfig.exe": ("IP 構成ユーティリティ", "10.0.14393.0", 38912),
    "C:\\Windows\\System32\\taskhostw.exe": ("Windows タスクのホスト プロセス", "10.0.14393.1198", 80384),
    "C:\\Windows\\System32\\SearchProtocolHost.exe": (
        "Microsoft Windows Search Protocol Host",
        "7.0.14393.1715",
        404480,
    ),
    "C:\\Windows\\System32\\mspaint.exe": ("ペイント", "10.0.14393.0", 6640128),
    "C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe": ("Google Chrome", "64.0.3282.186", 1514312),
    "C:\\Program Files\\Internet Explorer\\iexplore.exe": ("Internet Explorer", "11.0.14393.2007", 810960),
    "C:\\Program Files (x86)\\Microsoft Office\\root\\Office16\\EXCEL.EXE": (
        "Microsoft Excel",
        "16.0.9029.2167",
        41046736,
    ),
    "C:\\Program Files (x86)\\Microsoft Office\\root\\Office16\\WINWORD.EXE": (
        "Microsoft Word",
        "16.0.9029.2167",
        1937616,
    ),
}

VENDORS = {
    "chrome.exe": ("Google Inc.", "Google Chrome", "Google Inc", "DigiCert SHA2 Assured ID Code Signing CA"),
    "EXCEL.EXE": ("Microsoft Corporation", "Microsoft Office", "Microsoft Corporation", "Microsoft Code Signing PCA"),
    "WINWORD.EXE": ("Microsoft Corporation", "Microsoft Office", "Microsoft Corporation", "Microsoft Code Signing PCA"),
}
WINDOWS_VENDOR = (
    "Microsoft Corporation",
    "Microsoft(R) Windows(R) Operating System",
    "Microsoft Windows",
    "Microsoft Windows Production PCA 2011",
)


def known_image_fields(path: str, digest: str, created: str, size: int | None) -> list[tuple[str, str]]:
    """The version information, times, size and signature of a well-known executable (``path`` in
    :data:`KNOWN_BINARIES`) on a 2018 ``ps/start``, after its ``sha256``; ``created`` is its quoted file time."""
    description, version, known_size = KNOWN_BINARIES[path]
    company, product, signer, issuer = VENDORS.get(path.rsplit("\\", 1)[-1], WINDOWS_VENDOR)
    serial = " ".join(digest[i : i + 2] for i in range(0, 38, 2))
    return [
        ("company", quote(company)),
        ("fileDesc", quote(description)),
        ("fileVer", quote(version)),
        ("product", quote(product)),
        ("productVer", quote(version)),
        ("crTime", created),
        ("acTime", created),
        ("moTime", created),
        ("size", str(size or known_size)),
        ("sig", "Valid"),
        ("signer", quote(signer)),
        ("issuer", quote(issuer)),
        ("cerSN", quote("33 00 00 " + serial[9:])),
        ("validFrom", quote("10/11/2016 20:39:31.000")),
        ("validTo", quote("01/11/2018 20:39:31.000")),
    ]
