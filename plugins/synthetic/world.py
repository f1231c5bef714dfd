"""The model behind the synthetic Mark II log generator: one host, its processes, and events.

A helper library of :mod:`mk2ds.plugins.synthetic.generator` (the public API), shared by the office background
(:mod:`mk2ds.plugins.synthetic.background`) and the malware runs (:mod:`mk2ds.plugins.synthetic.scenarios`). Events are
kept as ``(key, raw value)`` pairs, with quoting already applied, so that rendering a line is a join. Every
random choice goes through the world's :class:`random.Random`, so a seed fixes the whole log.

Values are chosen to be encodable in CP932 as well as UTF-8 (no ``®``), so one log can be written in either.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mk2ds.plugins.synthetic.binaries import KNOWN_BINARIES, known_image_fields
from mk2ds.plugins.synthetic.host import JST, Host, quote, short_user_name, stamp, uuid_text

__all__ = [
    "JST",
    "Event",
    "Host",
    "Process",
    "Relation",
    "World",
    "quote",
    "short_user_name",
    "stamp",
]

#: Written files remembered for wrote-then-ran and for hashes of started images (bounded for endless logs).
MAX_REMEMBERED_FILES = 2000


class Process:
    """A process on the host. ``start_event`` is ``None`` for processes running before the log began."""

    __slots__ = (
        "cmd",
        "guid",
        "parent",
        "path",
        "pid",
        "quoted_path",
        "session_id",
        "start_event",
        "started_at",
        "stop_event",
        "user",
    )

    def __init__(
        self,
        guid: str,
        path: str,
        pid: int,
        parent: Process | None,
        cmd: str,
        user: str,
        session_id: int,
        started_at: float,
    ) -> None:
        self.guid = guid
        self.path = path
        self.quoted_path = quote(path)
        self.pid = pid
        self.parent = parent
        self.cmd = cmd
        self.user = user
        self.session_id = session_id
        self.start_event: Event | None = None
        self.stop_event: Event | None = None
        self.started_at = started_at

    @property
    def name(self) -> str:
        return self.path.rsplit("\\", 1)[-1]

    def __repr__(self) -> str:
        return f"Process({self.name!r}, {self.guid})"


class Event:
    """One future log line: time in seconds after the log start, kind, acting process, kind-specific fields.

    ``sn`` is filled in when the line is written. ``reorder`` renders the line with ``subEvt`` before ``evt``
    and ``sn`` third (real logs vary key order); ``late_ms`` writes a header time that many milliseconds
    earlier than the event's place in the file (real logs have lines out of time order).
    """

    __slots__ = ("evt", "fields", "late_ms", "order", "process", "reorder", "sn", "sub", "time")

    def __init__(self, time: float, evt: str, sub: str, process: Process | None, fields: list[tuple[str, str]]) -> None:
        self.time = time
        self.evt = evt
        self.sub = sub
        self.process = process
        self.fields = fields
        self.sn: int | None = None
        self.reorder = False
        self.late_ms = 0
        self.order = 0

    def __repr__(self) -> str:
        return f"Event({self.time:.3f}, {self.evt}/{self.sub}, sn={self.sn})"


@dataclass
class Relation:
    """An intended relation between processes, as the scenario meant it (see ``RelationTruth``)."""

    kind: str
    source: Process
    target: Process | None
    path: str | None
    event: Event
    evidence: Event | None = None
    details: dict[str, str] = field(default_factory=dict)


class World:
    """Everything one log knows: host, clock, processes, and the random source.

    :param track: keep every process and relation for the ground truth (off for endless benchmark streams,
        so that memory stays bounded).
    """

    def __init__(self, rng: random.Random, host: Host, start: datetime, track: bool) -> None:
        self.rng = rng
        self.host = host
        self.start = start
        self.track = track
        self.processes: list[Process] = []
        self.relations: list[Relation] = []
        self.written: dict[str, tuple[Process, Event]] = {}
        #: Files whose content is known (lower-case path → sha256, size): written files and the sample.
        self.contents: dict[str, tuple[str, int]] = {}
        self._pids: dict[int, None] = {}  # recently used, oldest first
        self._order = 0
        self._seconds: dict[int, str] = {}
        self._images: dict[str, list[tuple[str, str]]] = {}

    # identifiers --------------------------------------------------------------------------------------------

    def guid(self) -> str:
        return "{" + uuid_text(self.rng.getrandbits(128).to_bytes(16, "big")) + "}"

    def pid(self) -> int:
        """A Windows process ID not used by the last few thousand processes (Windows reuses IDs too)."""
        while True:
            value = self.rng.randrange(300, 12000) * 4
            if value not in self._pids:
                self._pids[value] = None
                if len(self._pids) > 4000:
                    del self._pids[next(iter(self._pids))]
                return value

    def hex(self, length: int) -> str:
        return f"{self.rng.getrandbits(length * 4):0{length}x}"

    def token(self, length: int, alphabet: str = "abcdefghijklmnopqrstuvwxyz") -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(length))

    # time -----------------------------------------------------------------------------------------------------

    def stamp_at(self, seconds: float) -> str:
        """:func:`stamp` of the time ``seconds`` after the start (cached per second: this is the hot path)."""
        second, millisecond = divmod(int(seconds * 1000), 1000)
        prefix = self._seconds.get(second)
        if prefix is None:
            if len(self._seconds) > 4096:
                self._seconds.clear()
            prefix = stamp(self.start + timedelta(seconds=second))[:-3]
            self._seconds[second] = prefix
        return f"{prefix}{millisecond:03d}"

    def clock(self, seconds: float) -> str:
        """A quoted in-value time (``sTime`` and friends) in the host's local clock, without offset."""
        return f'"{self.stamp_at(seconds)}"'

    # events ---------------------------------------------------------------------------------------------------

    def event(self, time: float, evt: str, sub: str, process: Process | None, *fields: tuple[str, str]) -> Event:
        event = Event(time, evt, sub, process, list(fields))
        self._order += 1
        event.order = self._order
        return event

    def process(
        self, path: str, parent: Process | None, cmd: str, time: float, *, user: str | None = None, session_id: int = 1
    ) -> Process:
        """A process object (no line yet); pre-existing processes use a negative ``time``."""
        created = Process(self.guid(), path, self.pid(), parent, cmd, user or self.host.user, session_id, time)
        if self.track:
            self.processes.append(created)
        return created

    def spawn(
        self,
        parent: Process | None,
        path: str,
        cmd: str,
        time: float,
        *,
        user: str | None = None,
        session_id: int = 1,
        sha256: str | None = None,
        size: int | None = None,
        properties: list[tuple[str, str]] | None = None,
    ) -> tuple[Process, Event]:
        """A new process and its ``ps/start`` line (file properties of the image, or ``properties``, included)."""
        child = self.process(path, parent, cmd, time, user=user, session_id=session_id)
        fields: list[tuple[str, str]] = [("cmd", quote(cmd))]
        if parent is not None:
            fields += [("parentGUID", parent.guid), ("parentPath", parent.quoted_path)]
        fields.append(("psID", str(child.pid)))
        fields += properties if properties is not None else self.image_properties(path, sha256=sha256, size=size)
        start = self.event(time, "ps", "start", child, *fields)
        child.start_event = start
        return child, start

    def stop(self, process: Process, time: float) -> Event:
        stop = self.event(time, "ps", "stop", process, ("sTime", self.clock(max(process.started_at, 0.0))))
        process.stop_event = stop
        return stop

    def relate(
        self,
        kind: str,
        source: Process,
        target: Process | None,
        event: Event,
        *,
        path: str | None = None,
        evidence: Event | None = None,
        **details: str,
    ) -> None:
        if self.track:
            self.relations.append(Relation(kind, source, target, path, event, evidence, dict(details)))

    def image_properties(
        self, path: str, *, sha256: str | None = None, size: int | None = None
    ) -> list[tuple[str, str]]:
        """Hash, version information, times and signature of an executable, as on a 2018 ``ps/start``."""
        if sha256 is None and path.lower() in self.contents:
            sha256, size = self.contents[path.lower()]
        elif sha256 is None and size is None:
            cached = self._images.get(path)
            if cached is None:
                cached = self._images[path] = self.image_properties(
                    path, sha256=hashlib.sha256(f"mk2-binary:{path.lower()}".encode()).hexdigest()
                )
            return cached
        known = KNOWN_BINARIES.get(path)
        digest = sha256 or self.hex(64)
        minute, second, millisecond = int(digest[0:2], 16) % 60, int(digest[2:4], 16) % 60, int(digest[4:7], 16) % 1000
        created = quote(f"{'07/16/2016' if known else '02/20/2018'} 21:{minute:02d}:{second:02d}.{millisecond:03d}")
        fields = [("sha256", digest)]
        if known is None:
            file_size = size if size is not None else 40960 + int(digest[:4], 16) * 8
            return fields + [("crTime", created), ("acTime", created), ("moTime", created), ("size", str(file_size))]
        return fields + known_image_fields(path, digest, created, size)

    # common file and network shapes -------------------------------------------------------------------------

    def write_file(
        self, process: Process, path: str, time: float, size: int, *, sha256: str | None = None, hide: int = 0
    ) -> list[Event]:
        """``file/create`` then ``file/close`` with ``new=1``: a process writes a new file."""
        create = self.event(time, "file", "create", process, ("path", quote(path)), ("drvType", "HDD"))
        digest = sha256 or self.hex(64)
        close = self.event(
            time + 0.004 + self.rng.random() * 0.05, "file", "close", process,
            ("path", quote(path)), ("drvType", "HDD"), ("read", "0"), ("write", str(size)), ("size", str(size)),
            ("hide", str(hide)), ("new", "1"), ("sTime", self.clock(time)), ("sha256", digest),
        )  # fmt: skip
        self.written[path.lower()] = (process, close)
        self.contents[path.lower()] = (digest, size)
        if len(self.written) > MAX_REMEMBERED_FILES:  # endless benchmark streams: forget the oldest files
            del self.written[next(iter(self.written))]
            del self.contents[next(iter(self.contents))]
        return [create, close]

    def connect(
        self,
        process: Process,
        time: float,
        dst_ip: str,
        dst_port: int,
        *,
        duration: float,
        recv: int,
        send: int,
        host_name: str | None = None,
        established: bool = True,
    ) -> list[Event]:
        """``net/con`` (+ ``est``) + ``dcon`` with byte counts: one outbound TCP connection."""
        src_port = self.rng.randrange(49152, 65535)
        tuple_fields = [
            ("srcIP", self.host.ip),
            ("srcPort", str(src_port)),
            ("dstIP", dst_ip),
            ("dstPort", str(dst_port)),
        ]
        con_fields = tuple_fields + ([("dstHost", quote(host_name))] if host_name else [])
        events = [self.event(time, "net", "con", process, *con_fields)]
        if established:
            events.append(self.event(time + 0.002 + self.rng.random() * 0.01, "net", "est", process, *tuple_fields))
        events.append(
            self.event(time + duration, "net", "dcon", process, *tuple_fields, ("recv", str(recv)), ("send", str(send)))
        )
        return events
