"""Office background activity for the synthetic Mark II logs: what a Japanese office PC does anyway.

A helper library of :mod:`mk2ds.plugins.synthetic.generator`. :class:`Office` owns the long-running system
processes (``System``, ``services.exe``, ``lsass.exe``, ``svchost.exe``, ``explorer.exe``, ...) that the
malware scenarios use as parents and injection targets, and produces bursts of background events: users
opening, saving and printing documents, browsing, window switches, clipboard use, logons, event-log records,
registry housekeeping, Defender updates and so on.

The first bursts come from a shuffled *deck* holding every activity once, so even a short log contains every
event kind of the format notes (``docs/format.md`` §4) and every lexical edge case (doubled quotes, a title that is one
double quote, a backslash before a closing quote, ``key=value`` text inside a quoted command line, ``"-"`` and ``""``
values, zeros). After the deck, activities are drawn by weight.
"""

from __future__ import annotations

from collections.abc import Callable

from mk2ds.plugins.synthetic.world import Event, Process, World, quote

__all__ = ["DOCUMENTS", "SYSTEM32", "WINDOW_TITLES", "Office"]

SYSTEM32 = "C:\\Windows\\System32"
EXPLORER = "C:\\Windows\\explorer.exe"
CHROME = "C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe"
IEXPLORE = "C:\\Program Files\\Internet Explorer\\iexplore.exe"
OFFICE = "C:\\Program Files (x86)\\Microsoft Office\\root\\Office16"
DEFENDER = "C:\\Program Files\\Windows Defender\\MsMpEng.exe"
PROXY, SERVER = "172.24.0.9", "172.24.0.1"

#: Documents of the office user: (path below the profile folder, size in bytes).
DOCUMENTS = (
    ("Documents\\見積書_2018年3月.xlsx", 48213),
    ("Documents\\売上集計_第4四半期.xlsx", 91520),
    ("Documents\\議事録_0301.docx", 23811),
    ("Documents\\会議資料\\提案書_最終版.docx", 187402),
    ("Desktop\\メモ.txt", 412),
    ("Desktop\\連絡先一覧.xlsx", 15880),
    ("Documents\\transcript.txt", 7112),
    ("Pictures\\社内イベント.png", 352011),
)
WINDOW_TITLES = {
    "notepad.exe": ("無題 - メモ帳", "メモ.txt - メモ帳"),
    "EXCEL.EXE": ("見積書_2018年3月.xlsx - Excel", "売上集計_第4四半期.xlsx - Excel"),
    "WINWORD.EXE": ("議事録_0301.docx - Word", "提案書_最終版.docx - Word"),
    "chrome.exe": ("社内ポータル - Google Chrome", "新しいタブ - Google Chrome"),
    "iexplore.exe": ("勤怠管理システム - Internet Explorer", "社内ポータル - Internet Explorer"),
    "mspaint.exe": ("社内イベント.png - ペイント",),
    "explorer.exe": ("ドキュメント", "PC", "ダウンロード"),
}
APPS = (
    (CHROME, '"{path}" '),
    (IEXPLORE, '"{path}" '),
    (f"{OFFICE}\\EXCEL.EXE", '"{path}" "{profile}\\Documents\\見積書_2018年3月.xlsx"'),
    (f"{OFFICE}\\WINWORD.EXE", '"{path}" /n "{profile}\\Documents\\議事録_0301.docx"'),
    (f"{SYSTEM32}\\notepad.exe", '"{path}" {profile}\\Desktop\\メモ.txt'),
    (f"{SYSTEM32}\\mspaint.exe", '"{path}" "{profile}\\Pictures\\社内イベント.png"'),
)
URLS = (
    ("http://portal.lab.local/%E5%8B%A4%E6%80%A0/index.html", "http://portal.lab.local/勤怠/index.html"),
    ("http://www.example.co.jp/news/2018/03/", "http://www.example.co.jp/news/2018/03/"),
    ("http://172.24.0.9/%E8%B3%87%E6%96%99/manual.pdf", "http://172.24.0.9/資料/manual.pdf"),
    ("res://ieframe.dll/tabswelcome.htm", "res://ieframe.dll/tabswelcome.htm"),
)
ADMIN_COMMANDS = (
    'cmd.exe /c "whoami /all > {profile}\\AppData\\Local\\Temp\\w.txt"',
    'netsh advfirewall firewall add rule name="Remote Desktop (TCP-In)" dir=in action=allow protocol=TCP localport=3389',
    "ipconfig /all",
    'icacls "{profile}\\Documents\\会議資料\\" /grant "LAB\\hanako.suzuki":(OI)(CI)M',
)


class Office:
    """The system and user processes of one host, and the background bursts they produce."""

    system: Process
    smss: Process
    wininit: Process
    services: Process
    lsass: Process
    svchost_dcom: Process
    svchost_net: Process
    svchost_local: Process
    spooler: Process
    defender: Process
    indexer: Process
    winlogon: Process
    userinit: Process
    explorer: Process

    def __init__(self, world: World, *, boot: bool, verbose: bool) -> None:
        self.world = world
        self.verbose = verbose
        self.apps: list[Process] = []
        self.boot_events: list[Event] = []
        profile = world.host.profile_folder
        self.profile = profile
        chain: list[tuple[str, str, str, str, int]] = [  # attribute, path, parent attribute, cmd, session
            ("system", "System", "", "", 0),
            ("smss", f"{SYSTEM32}\\smss.exe", "system", "\\SystemRoot\\System32\\smss.exe", 0),
            ("wininit", f"{SYSTEM32}\\wininit.exe", "smss", "wininit.exe", 0),
            ("services", f"{SYSTEM32}\\services.exe", "wininit", f"{SYSTEM32}\\services.exe", 0),
            ("lsass", f"{SYSTEM32}\\lsass.exe", "wininit", f"{SYSTEM32}\\lsass.exe", 0),
            ("svchost_dcom", f"{SYSTEM32}\\svchost.exe", "services", f"{SYSTEM32}\\svchost.exe -k DcomLaunch", 0),
            ("svchost_net", f"{SYSTEM32}\\svchost.exe", "services", f"{SYSTEM32}\\svchost.exe -k NetworkService", 0),
            ("svchost_local", f"{SYSTEM32}\\svchost.exe", "services", f"{SYSTEM32}\\svchost.exe -k netsvcs", 0),
            ("spooler", f"{SYSTEM32}\\spoolsv.exe", "services", f"{SYSTEM32}\\spoolsv.exe", 0),
            ("defender", DEFENDER, "services", f'"{DEFENDER}"', 0),
            ("indexer", f"{SYSTEM32}\\SearchIndexer.exe", "services", f"{SYSTEM32}\\SearchIndexer.exe /Embedding", 0),
            ("winlogon", f"{SYSTEM32}\\winlogon.exe", "smss", "winlogon.exe", 1),
            ("userinit", f"{SYSTEM32}\\userinit.exe", "winlogon", f"{SYSTEM32}\\userinit.exe", 1),
            ("explorer", EXPLORER, "userinit", EXPLORER, 1),
        ]
        time = 0.0
        for attribute, path, parent_attribute, cmd, session in chain:
            parent = getattr(self, parent_attribute) if parent_attribute else None
            user = "SYSTEM" if session == 0 else world.host.user
            if boot and attribute != "system":
                time += 0.05 + world.rng.random() * (0.8 if attribute == "explorer" else 0.3)
                process, start = world.spawn(parent, path, cmd, time, user=user, session_id=session)
                self.boot_events.append(start)
            else:
                process = world.process(
                    path, parent, cmd, -3600.0 - world.rng.random() * 7200, user=user, session_id=session
                )
            setattr(self, attribute, process)
        if boot:
            self.boot_events.insert(0, world.event(0.0, "sys", "start", None))
            self.boot_events.append(world.stop(self.userinit, time + 0.4))
            self.boot_events += self._logon(time + 0.2, "Interactive(2)", 4624)
        weighted: list[tuple[Callable[[float], list[Event]], int]] = [
            (self.launch_app, 6), (self.close_app, 5), (self.read_document, 14), (self.save_document, 5),
            (self.browse, 10), (self.domain_traffic, 8), (self.inbound_smb, 2), (self.listen, 2),
            (self.user_registry, 6), (self.system_registry, 5), (self.lock_screen, 1), (self.machine_logon, 3),
            (self.failed_logon, 1), (self.clipboard, 3), (self.window, 12), (self.print_job, 1),
            (self.admin_command, 1), (self.scheduled_task, 3), (self.search_indexer, 3), (self.wmi_query, 1),
            (self.admin_powershell, 1), (self.defender_update, 1), (self.usb_device, 1), (self.agent_config, 1),
            (self.guard_inject, 1), (self.folder, 2), (self.copy_to_share, 2), (self.delete_temp, 3),
            (self.second_user, 1), (self.remote_desktop, 1),
        ]  # fmt: skip
        self.deck = [activity for activity, _ in weighted] + [self.open_handles, self.quote_title]
        world.rng.shuffle(self.deck)
        self.activities = [activity for activity, _ in weighted] + [self.open_handles]
        self.weights = [weight for _, weight in weighted] + [8 if verbose else 1]

    def activity(self, time: float) -> list[Event]:
        """One burst of background events starting at ``time`` (seconds after the log start)."""
        if self.deck:
            return self.deck.pop()(time)
        return self.world.rng.choices(self.activities, self.weights)[0](time)

    # helpers ------------------------------------------------------------------------------------------------

    def _app(self, *names: str) -> Process | None:
        candidates = [app for app in self.apps if app.name in names] if names else list(self.apps)
        return self.world.rng.choice(candidates) if candidates else None

    def _document(self) -> tuple[str, int]:
        relative, size = self.world.rng.choice(DOCUMENTS)
        return f"{self.profile}\\{relative}", size

    def _logon(self, time: float, logon_type: str, event_id: int) -> list[Event]:
        world = self.world
        logon_id = quote(f"0x{world.rng.randrange(0x100000, 0xFFFFFF):X}")
        record = world.rng.randrange(80000, 99000)
        return [
            world.event(time, "session", "login", None, ("usr", quote(world.host.user)), ("usrDomain", quote(world.host.domain)), ("sessionID", "1")),
            world.event(
                time + 0.002, "os", "evtLog", None, ("channel", quote("Security")), ("evtRecID", str(record)), ("evtID", str(event_id)),
                ("evtSrc", quote("Microsoft-Windows-Security-Auditing")), ("evtUsr", quote(world.host.user)), ("evtDomain", quote(world.host.domain)),
                ("evtLogonID", logon_id), ("logonType", quote(logon_type)),
            ),
        ]  # fmt: skip

    # activities ---------------------------------------------------------------------------------------------

    def launch_app(self, time: float) -> list[Event]:
        world = self.world
        path, template = world.rng.choice(APPS)
        app, start = world.spawn(self.explorer, path, template.format(path=path, profile=self.profile), time)
        self.apps.append(app)
        title = world.rng.choice(WINDOW_TITLES.get(app.name, ("",)))
        events = [start, world.event(time + 0.8 + world.rng.random(), "win", "active", app, ("winTitle", quote(title)))]
        if len(self.apps) > 6:
            events += self.close_app(time + 2.0)
        return events

    def close_app(self, time: float) -> list[Event]:
        if not self.apps:
            return self.launch_app(time)
        app = self.apps.pop(self.world.rng.randrange(len(self.apps)))
        return [self.world.stop(app, time)]

    def read_document(self, time: float) -> list[Event]:
        world = self.world
        app = self._app("EXCEL.EXE", "WINWORD.EXE", "notepad.exe", "mspaint.exe") or self.explorer
        path, size = self._document()
        events = (
            [world.event(time, "file", "open", app, ("path", quote(path)), ("drvType", "HDD"))] if self.verbose else []
        )
        created = world.clock(-86400 * (3 + world.rng.random() * 20))
        events.append(
            world.event(
                time + 0.01 + world.rng.random(), "file", "close", app, ("path", quote(path)), ("drvType", "HDD"),
                ("read", str(size)), ("write", "0"), ("size", str(size)), ("hide", "0"), ("new", "0"), ("sTime", world.clock(time)),
                ("crTime", created), ("acTime", world.clock(time)), ("moTime", world.clock(-3600 * (1 + world.rng.random() * 48))),
            )
        )  # fmt: skip
        return events

    def save_document(self, time: float) -> list[Event]:
        world = self.world
        app = self._app("EXCEL.EXE", "WINWORD.EXE") or self.explorer
        path, size = self._document()
        folder = path.rsplit("\\", 1)[0]
        temporary = f"{folder}\\{world.hex(8).upper()}.tmp"
        events = world.write_file(app, temporary, time, size + world.rng.randrange(-200, 900))
        events.append(
            world.event(time + 0.2, "file", "rename", app, ("path", quote(temporary)), ("dstPath", quote(path)))
        )
        return events

    def browse(self, time: float) -> list[Event]:
        world = self.world
        browser = self._app("chrome.exe", "iexplore.exe")
        if browser is None:
            return self.launch_app(time)
        events: list[Event] = []
        if browser.name == "iexplore.exe":
            url, decoded = world.rng.choice(URLS)
            events.append(
                world.event(
                    time, "net", "webURL", browser, ("brType", "IE"), ("url", quote(url)), ("decode", quote(decoded))
                )
            )
        events += world.connect(
            browser,
            time + 0.01,
            PROXY,
            8080,
            duration=0.5 + world.rng.random() * 20,
            recv=world.rng.randrange(0, 400000),
            send=world.rng.randrange(300, 4000),
            host_name="proxy.lab.local",
        )
        return events

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

    def lock_screen(self, time: float) -> list[Event]:
        world = self.world
        user = ("usr", quote(world.host.user))
        return [
            world.event(time, "session", "lock", None, user, ("sessionID", "1")),
            world.event(
                time + 60 + world.rng.random() * 240,
                "session",
                "unlock",
                None,
                user,
                ("sessionID", "1"),
                ("sTime", world.clock(time)),
            ),
        ]

    def second_user(self, time: float) -> list[Event]:
        """Another user logs on locally (fast user switching) and logs off later."""
        world = self.world
        user = ("usr", quote("ichiro.sato" if world.host.user != "ichiro.sato" else "yuki.takahashi"))
        logon = world.event(
            time, "session", "login", None, user, ("usrDomain", quote(world.host.domain)), ("sessionID", "2")
        )
        logoff = world.event(
            time + 120 + world.rng.random() * 600,
            "session",
            "logout",
            None,
            user,
            ("sessionID", "2"),
            ("sTime", world.clock(time)),
        )
        return [logon, logoff]

    def remote_desktop(self, time: float) -> list[Event]:
        """An administrator connects over Remote Desktop from the server and disconnects later."""
        world = self.world
        source = [
            ("srcCom", quote("SV01")),
            ("srcIP", quote(SERVER)),
            ("srcPort", quote(str(world.rng.randrange(49152, 65535)))),
        ]
        user = ("usr", quote("administrator"))
        record = world.rng.randrange(80000, 99000)
        return [
            world.event(time, "session", "conR", None, user, *source, ("sessionID", "3")),
            world.event(time + 1.2, "session", "loginR", None, user, ("usrDomain", quote(world.host.domain)), *source, ("sessionID", "3"), ("evtRecID", str(record))),
            world.event(
                time + 1.201, "os", "evtLog", None, ("channel", quote("Security")), ("evtRecID", str(record)), ("evtID", "4624"),
                ("evtSrc", quote("Microsoft-Windows-Security-Auditing")), ("evtUsr", quote("administrator")), ("evtDomain", quote(world.host.domain)),
                ("evtLogonID", quote(f"0x{world.rng.randrange(0x100000, 0xFFFFFF):X}")), ("logonType", quote("RemoteInteractive(10)")),
                ("wsName", quote("SV01")), ("wsIp", quote(SERVER)), ("wsPort", "0"),
            ),
            world.event(time + 300 + world.rng.random() * 300, "session", "dconR", None, user, *source, ("sessionID", "3")),
            world.event(time + 601 + world.rng.random() * 60, "session", "logout", None, user, ("sessionID", "3"), ("sTime", world.clock(time + 1.2))),
        ]  # fmt: skip

    def machine_logon(self, time: float) -> list[Event]:
        world = self.world
        record = world.rng.randrange(80000, 99000)
        login = world.event(
            time, "session", "loginR", None, ("usr", quote(f"{world.host.name}$")), ("usrDomain", quote("LAB.LOCAL")),
            ("srcCom", quote("-")), ("srcIP", quote("::1")), ("srcPort", quote("-")), ("sessionID", "0"), ("evtRecID", str(record)),
        )  # fmt: skip
        log = world.event(
            time + 0.001, "os", "evtLog", None, ("channel", quote("Security")), ("evtRecID", str(record)), ("evtID", "4624"),
            ("evtSrc", quote("Microsoft-Windows-Security-Auditing")), ("evtUsr", quote(f"{world.host.name}$")), ("evtDomain", quote("")),
            ("evtLogonID", quote(f"0x{world.rng.randrange(0x100000, 0xFFFFFF):X}")), ("logonType", quote("Network(3)")),
            ("wsName", quote("-")), ("wsIp", quote("::1")), ("wsPort", "0"),
        )  # fmt: skip
        logoff = world.event(
            time + 0.3,
            "os",
            "evtLog",
            None,
            ("channel", quote("Security")),
            ("evtRecID", str(record + 1)),
            ("evtID", "4634"),
            ("evtSrc", quote("Microsoft-Windows-Security-Auditing")),
        )
        return [login, log, logoff]

    def failed_logon(self, time: float) -> list[Event]:
        world = self.world
        return [
            world.event(
                time, "os", "evtLog", None, ("channel", quote("Security")), ("evtRecID", str(world.rng.randrange(80000, 99000))), ("evtID", "4625"),
                ("evtSrc", quote("Microsoft-Windows-Security-Auditing")), ("evtUsr", quote("administrator")), ("evtDomain", quote(world.host.name)),
                ("logonType", quote("Network(3)")), ("failReason", quote("ユーザー名を認識できないか、またはパスワードが間違っています。")),
                ("wsName", quote("-")), ("wsIp", quote(SERVER)), ("wsPort", str(world.rng.randrange(49152, 65535))),
            )
        ]  # fmt: skip

    def clipboard(self, time: float) -> list[Event]:
        world = self.world
        app = self._app("notepad.exe", "EXCEL.EXE", "WINWORD.EXE") or self.explorer
        text = world.rng.choice(
            [
                '接続先: "\\\\172.24.0.1\\share" / ID=' + world.host.user,
                "お疲れ様です。\t資料を共有します。",
                'セル A1 = "合計"',
            ]
        )
        return [
            world.event(time, "clip", "copy", app, ("clipData", quote(text))),
            world.event(time + 2 + world.rng.random() * 10, "clip", "paste", app, ("clipData", quote(text))),
        ]

    def window(self, time: float) -> list[Event]:
        app = self._app() or self.explorer
        return [
            self.world.event(
                time,
                "win",
                "active",
                app,
                ("winTitle", quote(self.world.rng.choice(WINDOW_TITLES.get(app.name, ("",))))),
            )
        ]

    def quote_title(self, time: float) -> list[Event]:
        """A window whose title is one double quote, written as four quote characters (deck only)."""
        notepad, start = self.world.spawn(self.explorer, f"{SYSTEM32}\\notepad.exe", "notepad.exe", time)
        self.apps.append(notepad)
        return [start, self.world.event(time + 0.5, "win", "active", notepad, ("winTitle", quote('"')))]

    def print_job(self, time: float) -> list[Event]:
        app = self._app("EXCEL.EXE", "WINWORD.EXE", "notepad.exe") or self.explorer
        return [self.world.event(time, "prt", "create", app)]

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

    def folder(self, time: float) -> list[Event]:
        """A new folder made and removed again; the removal path ends in a backslash (edge case)."""
        world = self.world
        path = f"{self.profile}\\Documents\\新しいフォルダー ({world.rng.randrange(2, 9)})"
        return [
            world.event(time, "file", "createDir", self.explorer, ("path", quote(path)), ("drvType", "HDD")),
            world.event(
                time + 20 + world.rng.random() * 60,
                "file",
                "delDir",
                self.explorer,
                ("path", quote(path + "\\")),
                ("drvType", "HDD"),
            ),
        ]

    def copy_to_share(self, time: float) -> list[Event]:
        path, _ = self._document()
        target = f"\\\\{SERVER}\\share\\営業部\\{path.rsplit(chr(92), 1)[-1]}"
        return [
            self.world.event(time, "file", "copy", self.explorer, ("path", quote(path)), ("dstPath", quote(target)))
        ]

    def delete_temp(self, time: float) -> list[Event]:
        world = self.world
        path = f"{self.profile}\\AppData\\Local\\Temp\\~DF{world.hex(4).upper()}.TMP"
        owner = self._app() or self.explorer
        return [
            *world.write_file(owner, path, time, world.rng.randrange(0, 16384), hide=1),
            world.event(time + 1 + world.rng.random() * 5, "file", "del", owner, ("path", quote(path))),
        ]

    def open_handles(self, time: float) -> list[Event]:
        """``subEvt=open`` records for file, reg, net and win (written at the verbose level, rare otherwise)."""
        world = self.world
        app = self._app() or self.explorer
        path, _ = self._document()
        return [
            world.event(time, "file", "open", app, ("path", quote(path)), ("drvType", "HDD")),
            world.event(
                time + 0.001,
                "reg",
                "open",
                app,
                ("path", quote("HKEY_CURRENT_USER\\Software\\Microsoft\\Office\\16.0\\Common")),
            ),
            world.event(time + 0.002, "net", "open", app, ("dstIP", PROXY), ("dstPort", "8080")),
            world.event(
                time + 0.003,
                "win",
                "open",
                app,
                ("winTitle", quote(world.rng.choice(WINDOW_TITLES.get(app.name, ("",))))),
            ),
        ]
