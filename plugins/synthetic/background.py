"""Office background activity for the synthetic Mark II logs: what a Japanese office PC does anyway.

A helper library of :mod:`mk2ds.plugins.synthetic.generator`. :class:`Office` owns the long-running system
processes (``System``, ``services.exe``, ``lsass.exe``, ``svchost.exe``, ``explorer.exe``, ...) that the
malware scenarios use as parents and injection targets, and produces bursts of background events: users
opening, saving and printing documents, browsing, window switches, clipboard use, logons, event-log records,
registry housekeeping, Defender updates and so on. The activities are grouped by kind in mixins:
:mod:`~mk2ds.plugins.synthetic.background_desktop` (the user at the desktop),
:mod:`~mk2ds.plugins.synthetic.background_sessions` (logons and sessions) and
:mod:`~mk2ds.plugins.synthetic.background_system` (system services and administrators), on the shared state
of :mod:`~mk2ds.plugins.synthetic.background_base`.

The first bursts come from a shuffled *deck* holding every activity once, so even a short log contains every
event kind of the format notes (``docs/format.md`` §4) and every lexical edge case (doubled quotes, a title that is one
double quote, a backslash before a closing quote, ``key=value`` text inside a quoted command line, ``"-"`` and ``""``
values, zeros). After the deck, activities are drawn by weight.
"""

from __future__ import annotations

from collections.abc import Callable

from mk2ds.plugins.synthetic.background_base import DEFENDER, EXPLORER, SYSTEM32
from mk2ds.plugins.synthetic.background_desktop import DesktopActivities
from mk2ds.plugins.synthetic.background_sessions import SessionActivities
from mk2ds.plugins.synthetic.background_system import SystemActivities
from mk2ds.plugins.synthetic.world import Event, Process, World

__all__ = ["Office"]


class Office(DesktopActivities, SessionActivities, SystemActivities):
    """The system and user processes of one host, and the background bursts they produce."""

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
