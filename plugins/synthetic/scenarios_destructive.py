"""Malware runs that destroy the documents of the host they run on, for the synthetic Mark II logs: WannaCry
encrypts them (and spreads over 445/tcp), a StoneDrill-like wiper overwrites them from an injected browser.

Scenarios of :mod:`mk2ds.plugins.synthetic.scenarios`, written with :class:`~mk2ds.plugins.synthetic.story.Story`.
The stories follow public descriptions of the families and the log excerpts of the dataset's presentation
slides; every name, address and hash is invented.
"""

from __future__ import annotations

from mk2ds.plugins.synthetic.background_base import SYSTEM32
from mk2ds.plugins.synthetic.story import CMD, RUN_KEY, Sample, Story, launch_sample
from mk2ds.plugins.synthetic.world import quote

__all__ = ["stonedrill", "wannacry"]

IEXPLORE = "C:\\Program Files\\Internet Explorer\\iexplore.exe"


def wannacry(story: Story, sample: Sample) -> None:
    """WannaCry: the dropper registers itself as a service (mssecsvc2.0) that scans port 445 of the
    neighbors, writes and starts tasksche.exe, which registers its own service; services.exe starts it, it
    encrypts (read, .WNCRYT, rename to .WNCRY, delete the original) and deletes shadow copies."""
    world = story.world
    dropper_process = launch_sample(story, sample)
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


def stonedrill(story: Story, sample: Sample) -> None:
    """StoneDrill-like wiper: starts a hidden browser, injects into it, and the browser wipes documents."""
    office = story.office
    parent = launch_sample(story, sample)
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
