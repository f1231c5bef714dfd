"""The sample distribution itself: its samples (:func:`plan_samples`) and every file of it (:func:`write_sample`).

The library behind ``mk2ds sample`` and ``mk2ds demo`` (see :mod:`mk2ds.plugins.synthetic`, which re-exports
the public names). Same seed, same bytes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from mk2ds.plugins.bagit.manifests import format_sums
from mk2ds.plugins.synthetic import DEFAULT_EVENTS, MINIMUM_SAMPLES
from mk2ds.plugins.synthetic.artifacts import (
    encrypted_zip,
    impfuzzy_text,
    list_xlsx,
    pe_sample,
    pefile_text,
    script_sample,
    systeminfo_text,
    w32tm_text,
)
from mk2ds.plugins.synthetic.generator import MEAN_LINE_BYTES, ScenarioTruth, write_log
from mk2ds.plugins.synthetic.texts import analysis_report, environment, format_note, readme, tools_note
from mk2ds.plugins.synthetic.world import JST, Host

__all__ = ["DEFAULT_EVENTS", "MINIMUM_SAMPLES", "SampleDistribution", "SampleSpec", "plan_samples", "write_sample"]

#: The default lineup: family (= generator scenario), extension, host, header form, Verbose?, report?,
#: Sysinfo blocked?, AV label, reference URL. Labels and URLs are illustrative.
LINEUP: list[tuple[str, str, str, str, bool, bool, bool, str, str]] = [
    (
        "wannacry",
        "exe",
        "PC1",
        "offset",
        True,
        True,
        False,
        "Ransom:Win32/WannaCrypt.A!rsm (illustrative)",
        "https://www.example.jp/analysis/wannacry",
    ),
    (
        "olympic",
        "exe",
        "PC4",
        "plain",
        False,
        True,
        True,
        "Trojan:Win32/OlympicDestroyer.A (illustrative)",
        "https://www.example.jp/analysis/olympic-destroyer",
    ),
    (
        "script",
        "js",
        "PC2",
        "offset",
        True,
        False,
        False,
        "TrojanDownloader:JS/Nemucod (illustrative)",
        "https://www.example.jp/analysis/js-downloader",
    ),
    (
        "dropper",
        "exe",
        "PC3",
        "mixed",
        False,
        False,
        False,
        "Trojan:Win32/Dropper.gen (illustrative)",
        "https://www.example.jp/analysis/dropper",
    ),
    (
        "petya",
        "dll",
        "PC1",
        "offset",
        False,
        False,
        False,
        "Ransom:Win32/Petya.P (illustrative)",
        "https://www.example.jp/analysis/notpetya",
    ),
    (
        "stonedrill",
        "exe",
        "PC2",
        "offset",
        False,
        False,
        False,
        "Trojan:Win32/StoneDrill.A (illustrative)",
        "https://www.example.jp/analysis/stonedrill",
    ),
]
EXTRA_LINEUP = [
    (
        "dropper",
        "exe",
        "PC3",
        "offset",
        False,
        False,
        False,
        "Trojan:Win32/Dropper.gen (illustrative)",
        "https://www.example.jp/analysis/dropper",
    ),
    (
        "script",
        "vbs",
        "PC2",
        "offset",
        False,
        False,
        False,
        "TrojanDownloader:VBS/Agent (illustrative)",
        "https://www.example.jp/analysis/vbs-downloader",
    ),
]
REPORT_NOTES = {
    "wannacry": ["検体自身が mssecsvc2.0 サービスとして登録され、services.exe から起動されて 445/tcp に接続しています。",
                 "tasksche.exe が .WNCRYT を書き込み .WNCRY に名前を変更した後、元のファイルを削除しています。",
                 "vssadmin, wmic, bcdedit, wbadmin によりシャドウコピーと回復手段が削除されています。"],
    "olympic": ["PsExec (_jsh.exe) のコマンドラインに窃取された認証情報が含まれています。",
                "wevtutil cl によるイベントログの消去と、サービスの無効化 (Start=4) が記録されています。"],
}  # fmt: skip


@dataclass(frozen=True)
class SampleSpec:
    """One sample of the distribution and how its run is simulated."""

    number: int
    family: str
    extension: str
    host: str
    header: str
    verbose: bool
    report: bool
    sysinfo_blocked: bool
    label: str
    url: str
    start: datetime
    data: bytes = field(repr=False)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def md5(self) -> str:
        return hashlib.md5(self.data).hexdigest()

    @property
    def is_pe(self) -> bool:
        return self.data[:2] == b"MZ"

    @property
    def path_on_host(self) -> str:
        return f"D:\\{self.sha256}.{self.extension}"


@dataclass
class SampleDistribution:
    """What :func:`write_sample` wrote: the root, the samples, and every file with its size."""

    root: Path
    samples: list[SampleSpec]
    files: dict[str, int] = field(default_factory=dict)


def plan_samples(count: int, seed: int) -> list[SampleSpec]:
    """The samples of a distribution: the default lineup first, then droppers and VBScript samples."""
    if count < MINIMUM_SAMPLES:
        raise ValueError(
            f"a sample distribution needs at least {MINIMUM_SAMPLES} samples (WannaCry-like, Olympic-Destroyer-like, script); not {count}"
        )
    specs = []
    for index in range(count):
        family, extension, host, header, verbose, report, blocked, label, url = (
            LINEUP[index] if index < len(LINEUP) else EXTRA_LINEUP[(index - len(LINEUP)) % len(EXTRA_LINEUP)]
        )
        number = index + 1
        note = f"seed {seed}, sample {number}"
        data = (
            pe_sample(family, note, dll=extension == "dll", timestamp=0x58F00000 + number * 86400)
            if extension in ("exe", "dll")
            else script_sample(extension, note)
        )
        start = datetime(2018, 2, 1, 10, 0, tzinfo=JST) + timedelta(
            days=(number * 3) % 54, hours=(seed + number) % 8, minutes=(seed * 7 + number * 13) % 60
        )
        specs.append(
            SampleSpec(number, family, extension, host, header, verbose, report, blocked, label, url, start, data)
        )
    return specs


class _Writer:
    """Writes files below a staging root and remembers every relative path."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, int] = {}

    def write(self, relative: str, data: bytes) -> None:
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.files[relative] = len(data)

    def log(self, relative: str, **options: Any) -> None:
        info = write_log(self.root / relative, **options)
        self.files[relative] = info.bytes


def write_sample(
    directory: str | os.PathLike[str],
    *,
    samples: int = 6,
    seed: int = 0,
    events_per_log: int = DEFAULT_EVENTS,
    log_bytes: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> SampleDistribution:
    """Write the sample distribution into ``directory`` (new or empty). Same arguments, same bytes.

    :param samples: number of samples (at least :data:`MINIMUM_SAMPLES`).
    :param seed: changes every sample, hash and log.
    :param events_per_log: about how many lines a 30-minute log has (Verbose logs 1.5×).
    :param log_bytes: about how large a 30-minute log is (overrides ``events_per_log``; for benchmarks).
    :param progress: called with the name of each log before it is written.
    :raises FileExistsError: ``directory`` exists and is not an empty folder.
    :raises ValueError: fewer than :data:`MINIMUM_SAMPLES` samples.
    """
    target = Path(directory)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(f"{target}: exists and is not an empty folder")
    specs = plan_samples(samples, seed)
    events = max(50, log_bytes // MEAN_LINE_BYTES["2018"]) if log_bytes else events_per_log
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        writer = _Writer(staging)
        _write_all(writer, specs, seed, events, progress or (lambda name: None))
        if target.exists():
            target.rmdir()
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return SampleDistribution(target, specs, dict(sorted(writer.files.items())))


def _write_all(
    writer: _Writer, specs: list[SampleSpec], seed: int, events: int, progress: Callable[[str], None]
) -> None:
    for spec in specs:
        sha = spec.sha256
        run = {
            "host": spec.host,
            "scenario": spec.family,
            "sample_sha256": sha,
            "sample_path": spec.path_on_host,
            "sample_size": len(spec.data),
        }
        truth = ScenarioTruth() if spec.report else None
        name = f"MK2Log/30m/{sha}.log"
        progress(name)
        writer.log(
            name,
            seed=seed * 1000 + spec.number,
            start=spec.start,
            events=events,
            header=spec.header,
            truth=truth,
            **run,
        )
        if spec.verbose:
            progress(f"MK2Log/Verbose/{sha}.log")
            writer.log(
                f"MK2Log/Verbose/{sha}.log",
                seed=seed * 1000 + 500 + spec.number,
                start=spec.start + timedelta(days=1),
                events=events * 3 // 2,
                header=spec.header,
                level="verbose",
                **run,
            )
        if truth is not None:
            writer.write(
                f"Reports/{sha}.txt", analysis_report(truth, name, spec.family, REPORT_NOTES.get(spec.family, ()))
            )
        writer.write(f"impfuzzy/{sha}.txt", impfuzzy_text(spec.data) if spec.is_pe else b"")
        writer.write(f"PEfile/{sha}.txt", pefile_text(spec.data) if spec.is_pe else b"")
        host = Host.create(spec.host)
        blocked = spec.sysinfo_blocked
        writer.write(f"Sysinfo/{sha}/systeminfo.txt", b"" if blocked else systeminfo_text(host, spec.start))
        offsets = [((spec.number * 37 + index * 11) % 40 - 20) / 10 for index in range(5)]
        writer.write(f"Sysinfo/{sha}/w32tm.txt", b"" if blocked else w32tm_text(host, spec.start, offsets))
        writer.write(
            f"samples/{sha}.zip",
            encrypted_zip([(f"{sha}.{spec.extension}", spec.data)], salt_seed=f"{seed}:{sha}".encode()),
        )

    progress("MK2Log/Normal/PC1.log")
    writer.log(
        "MK2Log/Normal/PC1.log",
        seed=seed * 1000 + 900,
        host="PC1",
        scenario="benign",
        start=datetime(2018, 2, 28, 9, 0, tzinfo=JST),
        events=events,
        boot=True,
    )
    _special_runs(writer, specs, seed, events, progress)

    rows = [
        [
            spec.number,
            spec.sha256,
            spec.md5,
            spec.extension,
            spec.label,
            spec.url,
            "○" if spec.verbose else None,
            "○" if spec.report else None,
        ]
        for spec in specs
    ]
    writer.write("List.xlsx", list_xlsx(rows, "Soliton Dataset 2018 形式 マルウェア一覧 (mk2ds サンプル、合成データ)"))
    writer.write("README.txt", readme(seed, len(specs)))
    writer.write("ENV.txt", environment())
    writer.write("Format/MK2LogFormat.txt", format_note())
    writer.write("Tools/README.txt", tools_note())
    sums = {path: hashlib.sha256((writer.root / path).read_bytes()).hexdigest() for path in writer.files}
    writer.write("SHA256SUMS", format_sums(sums))


def _special_runs(
    writer: _Writer, specs: list[SampleSpec], seed: int, events: int, progress: Callable[[str], None]
) -> None:
    """The multi-host runs: the malicious host (PC1) and the host it moves to (PC2), same clock."""
    by_family = {spec.family: spec for spec in reversed(specs)}
    runs = [  # folder, family, start, minutes, header, payload on the receiving host (None: single host)
        ("WannaCry", "wannacry", datetime(2018, 3, 1, 19, 50, tzinfo=JST), 30, "offset", "C:\\Windows\\mssecsvc.exe"),
        (
            "OlympicDestroyer",
            "olympic",
            datetime(2018, 3, 27, 19, 40, tzinfo=JST),
            120,
            "plain",
            "C:\\Windows\\_bbh.exe",
        ),
        ("Petya", "petya", datetime(2018, 3, 8, 14, 0, tzinfo=JST), 30, "offset", "C:\\Windows\\perfc.dat"),
        ("StoneDrill", "stonedrill", datetime(2018, 3, 12, 11, 0, tzinfo=JST), 30, "offset", None),
    ]
    for number, (folder, family, start, minutes, header, payload) in enumerate(runs, start=1):
        spec = by_family.get(family)
        sha = spec.sha256 if spec else hashlib.sha256(f"mk2ds-special:{seed}:{family}".encode()).hexdigest()
        extension = spec.extension if spec else ("dll" if family == "petya" else "exe")
        common = {
            "start": start,
            "minutes": minutes,
            "header": header,
            "events": events * minutes // 30,
            "sample_sha256": sha,
        }
        progress(f"MK2Log/{folder}/PC1.log")
        writer.log(
            f"MK2Log/{folder}/PC1.log",
            seed=seed * 1000 + 950 + number,
            host="PC1",
            scenario=family,
            sample_path=f"D:\\{sha}.{extension}",
            **common,
        )
        if payload:
            progress(f"MK2Log/{folder}/PC2.log")
            writer.log(
                f"MK2Log/{folder}/PC2.log",
                seed=seed * 1000 + 970 + number,
                host="PC2",
                scenario="lateral",
                peer="PC1",
                sample_path=payload,
                **common,
            )
