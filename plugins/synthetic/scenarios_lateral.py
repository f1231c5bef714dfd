"""Malware runs that move laterally with PsExec, WMIC and stolen credentials, for the synthetic Mark II logs:
Olympic Destroyer, a NotPetya-like DLL, and the receiving side of such a move (``lateral``: the payload
arrives over SMB and PSEXESVC starts it).

Scenarios of :mod:`mk2ds.plugins.synthetic.scenarios`, written with :class:`~mk2ds.plugins.synthetic.story.Story`.
The stories follow public descriptions of the families and the log excerpts of the dataset's presentation
slides; every name, address, hash and GUID is invented except PsExec's public file properties.
"""

from __future__ import annotations

from mk2ds.plugins.synthetic.background_base import SYSTEM32
from mk2ds.plugins.synthetic.story import SERVICES_KEY, WMIC, Sample, Story, launch_sample
from mk2ds.plugins.synthetic.world import Host, quote, short_user_name

__all__ = ["PSEXEC_PROPERTIES", "lateral", "olympic", "petya"]

RUNDLL32 = f"{SYSTEM32}\\rundll32.exe"
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


def olympic(story: Story, sample: Sample) -> None:
    """Olympic Destroyer: drops PsExec as _jsh.exe and spreads with stolen credentials, then deletes shadow
    copies and backups, breaks booting, clears event logs and disables services."""
    world, office = story.world, story.office
    host = world.host
    parent = launch_sample(story, sample)
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
    neighbor = f"172.24.1.{host.index % 250 + 1}"
    spreader = story.start(
        runner,
        "C:\\Windows\\dllhost.dat",
        f'C:\\Windows\\dllhost.dat \\\\{neighbor} -accepteula -s -d C:\\Windows\\System32\\rundll32.exe "C:\\Windows\\perfc.dat",#1 30',
    )
    story.connect(spreader, neighbor, 445, recv=6120, send=368201)
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
