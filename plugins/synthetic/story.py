"""The story of a malware run in the synthetic Mark II logs: :class:`Sample` (what is run) and :class:`Story`
(a time cursor over the world with helpers for processes, files, registry, services, network and injections).

A helper library of :mod:`mk2ds.plugins.synthetic.scenarios`: each scenario writes its story with these
helpers. Stories declare the relations they create (``wrote-then-ran``, ``service``, ``inject``,
``guard-inject``) so that the generator can hand tests the ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mk2ds.plugins.synthetic.background import Office
from mk2ds.plugins.synthetic.background_base import DOCUMENTS, SYSTEM32
from mk2ds.plugins.synthetic.world import Event, Process, World, quote

__all__ = ["CMD", "RUN_KEY", "SERVICES_KEY", "WMIC", "Sample", "Story", "launch_sample"]

SERVICES_KEY = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services"
RUN_KEY = "HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run"
CMD = f"{SYSTEM32}\\cmd.exe"
WMIC = f"{SYSTEM32}\\wbem\\WMIC.exe"


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


def launch_sample(story: Story, sample: Sample) -> Process:
    """The user starts the sample from explorer.exe."""
    return story.start(story.office.explorer, sample.path, f'"{sample.path}" ', sha256=sample.sha256, size=sample.size)
