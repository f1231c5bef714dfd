"""What the system and its administrators do, for the office background: domain and file-server traffic,
listening ports, registry housekeeping, administrator commands and PowerShell, scheduled tasks, the search
indexer, WMI, Defender updates, USB devices, agent configuration changes and Defender's guarded access to
lsass.

A mixin of :class:`~mk2ds.plugins.synthetic.background.Office`; each activity takes the start time (seconds
after the log start) and returns its burst of events.
"""

from __future__ import annotations

from mk2ds.plugins.synthetic.background_base import SERVER, SYSTEM32, OfficeBase
from mk2ds.plugins.synthetic.world import Event, quote

__all__ = ["SystemActivities"]

ADMIN_COMMANDS = (
    'cmd.exe /c "whoami /all > {profile}\\AppData\\Local\\Temp\\w.txt"',
    'netsh advfirewall firewall add rule name="Remote Desktop (TCP-In)" dir=in action=allow protocol=TCP localport=3389',
    "ipconfig /all",
    'icacls "{profile}\\Documents\\会議資料\\" /grant "LAB\\hanako.suzuki":(OI)(CI)M',
)


class SystemActivities(OfficeBase):
    """The system and administrator activities (see the module)."""

    def domain_traffic(self, time: float) -> list[Event]:
        world = self.world
        process, port = world.rng.choice(
            [
                (self.lsass, 88),
                (self.lsass, 389),
                (self.svchost_net, 135),
                (self.svchost_local, 445),
                (self.svchost_net, 53),
            ]
        )
        if port == 53:
            return [world.event(time, "net", "openUDP", process, ("port", "53"))]
        return world.connect(
            process,
            time,
            SERVER,
            port,
            duration=world.rng.random() * 2,
            recv=world.rng.randrange(0, 6000),
            send=world.rng.randrange(0, 3000),
            established=world.rng.random() < 0.7,
        )

    def inbound_smb(self, time: float) -> list[Event]:
        world = self.world
        fields = [
            ("srcIP", SERVER),
            ("srcPort", str(world.rng.randrange(49152, 65535))),
            ("dstIP", world.host.ip),
            ("dstPort", "445"),
        ]
        return [
            world.event(time, "net", "acpt", self.system, *fields),
            world.event(time + 1.5, "net", "dcon", self.system, *fields, ("recv", "0"), ("send", "0")),
        ]

    def listen(self, time: float) -> list[Event]:
        world = self.world
        return [
            world.event(time, "net", "lsn", self.svchost_dcom, ("port", "135")),
            world.event(
                time + 0.01, "net", "openUDP", self.svchost_local, ("port", str(world.rng.choice([137, 1900, 5353])))
            ),
        ]

    def user_registry(self, time: float) -> list[Event]:
        world = self.world
        key = "HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer"
        session = f"{key}\\SessionInfo\\1\\ApplicationViewManagement\\W32:{world.hex(16).upper()}"
        return [
            world.event(time, "reg", "setVal", self.explorer, ("path", quote(f"{key}\\RecentDocs\\.xlsx")), ("entry", quote("MRUListEx")), ("valType", "REG_BINARY"), ("valSize", str(4 * world.rng.randrange(2, 12)))),
            world.event(time + 0.01, "reg", "create", self.explorer, ("path", quote(session))),
            world.event(time + 0.02, "reg", "setVal", self.explorer, ("path", quote(session)), ("entry", quote("VirtualDesktop")), ("valType", "REG_BINARY"), ("valSize", "24")),
            world.event(time + 5.0, "reg", "delVal", self.explorer, ("path", quote(session)), ("entry", quote("VirtualDesktop"))),
            world.event(time + 5.01, "reg", "delKey", self.explorer, ("path", quote(session))),
        ]  # fmt: skip

    def system_registry(self, time: float) -> list[Event]:
        world = self.world
        path = quote(
            "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters\\Interfaces\\{"
            + world.hex(8).upper()
            + "}"
        )
        value = world.rng.choice(["0", "0", str(world.rng.randrange(1, 86400))])
        return [
            world.event(
                time,
                "reg",
                "setVal",
                self.svchost_net,
                ("path", path),
                ("entry", quote("LeaseObtainedTime")),
                ("valType", "REG_DWORD"),
                ("valNum", value),
                ("valSize", "4"),
            )
        ]

    def admin_command(self, time: float) -> list[Event]:
        world = self.world
        command = world.rng.choice(ADMIN_COMMANDS).format(profile=self.profile)
        shell, start = world.spawn(self.explorer, f"{SYSTEM32}\\cmd.exe", f'"{SYSTEM32}\\cmd.exe" ', time)
        host, host_start = world.spawn(
            shell,
            f"{SYSTEM32}\\conhost.exe",
            "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1",
            time + 0.01,
            user=world.host.user,
        )
        tool_name = command.split()[0]
        tool_path = f"{SYSTEM32}\\{tool_name if tool_name.endswith('.exe') else tool_name + '.exe'}"
        tool, tool_start = world.spawn(shell, tool_path, command, time + 5 + world.rng.random() * 20)
        return [
            start,
            host_start,
            tool_start,
            world.stop(tool, tool_start.time + 0.4),
            world.stop(host, tool_start.time + 3),
            world.stop(shell, tool_start.time + 3),
        ]

    def scheduled_task(self, time: float) -> list[Event]:
        world = self.world
        task, start = world.spawn(
            self.svchost_local,
            f"{SYSTEM32}\\taskhostw.exe",
            "taskhostw.exe Install $(Arg0)",
            time,
            user="SYSTEM",
            session_id=0,
        )
        return [start, world.stop(task, time + 1 + world.rng.random() * 30)]

    def search_indexer(self, time: float) -> list[Event]:
        world = self.world
        cmd = f'"{SYSTEM32}\\SearchProtocolHost.exe" Global\\UsGthrFltPipeMssGthrPipe1_ Global\\UsGthrCtrlFltPipeMssGthrPipe1 1 -2147483646 "Software\\Microsoft\\Windows Search" "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT; MS Search 4.0 Robot)" "C:\\ProgramData\\Microsoft\\Search\\Data\\Temp\\usgthrsvc" "DownLevelDaemon" '
        helper, start = world.spawn(
            self.indexer, f"{SYSTEM32}\\SearchProtocolHost.exe", cmd, time, user="SYSTEM", session_id=0
        )
        path, size = self._document()
        read = world.event(
            time + 0.3,
            "file",
            "close",
            helper,
            ("path", quote(path)),
            ("drvType", "HDD"),
            ("read", str(size)),
            ("write", "0"),
            ("size", str(size)),
            ("hide", "0"),
            ("new", "0"),
        )
        return [start, read, world.stop(helper, time + 60 + world.rng.random() * 60)]

    def wmi_query(self, time: float) -> list[Event]:
        world = self.world
        provider, start = world.spawn(
            self.svchost_dcom,
            f"{SYSTEM32}\\wbem\\WmiPrvSE.exe",
            "C:\\Windows\\system32\\wbem\\wmiprvse.exe -Embedding",
            time,
            user="NETWORK SERVICE",
            session_id=0,
        )
        return [
            start,
            world.event(time + 0.2, "wmi", "psCreate", provider),
            world.stop(provider, time + 30 + world.rng.random() * 90),
        ]

    def admin_powershell(self, time: float) -> list[Event]:
        world = self.world
        path = f"{SYSTEM32}\\WindowsPowerShell\\v1.0\\powershell.exe"
        shell, start = world.spawn(
            self.explorer,
            path,
            "powershell.exe -NoProfile -Command \"Get-Service | Where-Object {$_.Status -eq 'Running'}\"",
            time,
        )
        commands = [
            world.event(
                time + 1.2 + index * 0.01,
                "powerShell",
                "exec",
                shell,
                ("shCmd", quote(name)),
                ("cmdType", quote("Cmdlet")),
            )
            for index, name in enumerate(("Get-Service", "Where-Object"))
        ]
        return [start, *commands, world.stop(shell, time + 2.5)]

    def defender_update(self, time: float) -> list[Event]:
        return [self.world.event(time, "windowsDefender", self.world.rng.choice(["sigUpdate", "scnComplete"]), None)]

    def usb_device(self, time: float) -> list[Event]:
        return [
            self.world.event(time, "dev", "mnt", None),
            self.world.event(time + 120 + self.world.rng.random() * 300, "dev", "unMnt", None),
        ]

    def agent_config(self, time: float) -> list[Event]:
        return [self.world.event(time, "sys", "chgConf", None)]

    def guard_inject(self, time: float) -> list[Event]:
        """Defender opens lsass; the agent records the guarded access (a ``guard-inject`` relation)."""
        world = self.world
        event = world.event(
            time,
            "ps",
            "guardInject",
            self.defender,
            ("api", "OpenProcess"),
            ("tpsGUID", self.lsass.guid),
            ("tpsPath", self.lsass.quoted_path),
        )
        world.relate("guard-inject", self.defender, self.lsass, event, path=self.lsass.path, api="OpenProcess")
        return [event]
