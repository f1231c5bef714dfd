"""What the office user does at the desktop, for the office background: applications started and closed,
documents read and saved, browsing, windows, the clipboard, printing, folders, copies to the file server,
temporary files, and the ``subEvt=open`` handle records of the verbose level.

A mixin of :class:`~mk2ds.plugins.synthetic.background.Office`; each activity takes the start time (seconds
after the log start) and returns its burst of events.
"""

from __future__ import annotations

from mk2ds.plugins.synthetic.background_base import PROXY, SERVER, SYSTEM32, OfficeBase
from mk2ds.plugins.synthetic.world import Event, quote

__all__ = ["WINDOW_TITLES", "DesktopActivities"]

CHROME = "C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe"
IEXPLORE = "C:\\Program Files\\Internet Explorer\\iexplore.exe"
OFFICE = "C:\\Program Files (x86)\\Microsoft Office\\root\\Office16"

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


class DesktopActivities(OfficeBase):
    """The user's desktop activities (see the module)."""

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
