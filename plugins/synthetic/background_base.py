"""What every part of the office background shares: the host's well-known paths and documents, and
:class:`OfficeBase`, the state the activity mixins work on.

A helper library of :mod:`mk2ds.plugins.synthetic.background`: :class:`~mk2ds.plugins.synthetic.background.Office`
sets these attributes up and combines the activity kinds (:mod:`~mk2ds.plugins.synthetic.background_desktop`,
:mod:`~mk2ds.plugins.synthetic.background_sessions`, :mod:`~mk2ds.plugins.synthetic.background_system`).
"""

from __future__ import annotations

from mk2ds.plugins.synthetic.world import Process, World

__all__ = ["DOCUMENTS", "SYSTEM32", "OfficeBase"]

SYSTEM32 = "C:\\Windows\\System32"
EXPLORER = "C:\\Windows\\explorer.exe"
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


class OfficeBase:
    """The world, the long-running processes of one host and the user's open applications.

    :class:`~mk2ds.plugins.synthetic.background.Office` fills these in; the activity mixins only read them (and
    add to or remove from ``apps``).
    """

    world: World
    verbose: bool
    apps: list[Process]
    profile: str
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

    def _app(self, *names: str) -> Process | None:
        candidates = [app for app in self.apps if app.name in names] if names else list(self.apps)
        return self.world.rng.choice(candidates) if candidates else None

    def _document(self) -> tuple[str, int]:
        relative, size = self.world.rng.choice(DOCUMENTS)
        return f"{self.profile}\\{relative}", size
