"""Logons and sessions, for the office background: the user's interactive logon at boot, screen locks, a
second local user, Remote Desktop from the server, machine-account network logons and a failed logon, each
with the Security event-log records that go with it.

A mixin of :class:`~mk2ds.plugins.synthetic.background.Office`; each activity takes the start time (seconds
after the log start) and returns its burst of events.
"""

from __future__ import annotations

from mk2ds.plugins.synthetic.background_base import SERVER, OfficeBase
from mk2ds.plugins.synthetic.world import Event, quote

__all__ = ["SessionActivities"]


class SessionActivities(OfficeBase):
    """The logon and session activities (see the module)."""

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
