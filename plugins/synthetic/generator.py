"""Realistic, deterministic InfoTrace Mark II logs for tests, benchmarks and the built-in sample dataset.

A library, not a plugin (it implements no hook). The public API, stable for other modules and tests:

:func:`generate_lines`
    Lines (without terminators) of one host's log, streamed: a scenario (``SCENARIO_NAMES``) on top of office
    background activity, over ``minutes`` from ``start``. The same arguments always give the same lines.
:func:`write_log`
    The same lines written to a file (CRLF by default, UTF-8 or CP932), optionally until ``target_bytes``
    (for benchmarks: about 60 MB/s, memory bounded).
:func:`scenario_truth` / ``generate_lines(..., truth=ScenarioTruth())``
    The ground truth of a log: every process (:class:`ProcessTruth`: psGUID, parentGUID, path, start/stop
    ``sn``) and the relations the scenario created (:class:`RelationTruth`: ``inject``, ``guard-inject``,
    ``wrote-then-ran``, ``service``), for process-tree tests.

What the logs contain (see ``docs/format.md``): every event kind of §4 including ``subEvt=open`` for
file/reg/net/win; Japanese paths, titles and messages; both header forms (``header="offset"``, ``"plain"``,
or ``"mixed"`` per line); the lexical edge cases of the format (doubled quotes, a value that is one double quote, a backslash before a
closing quote, ``key=value`` text inside a quoted command line, ``"-"`` and ``""`` values, zeros, varied key
order); GUIDs, hashes and addresses in 172.24.0.0/16; ``sn`` increasing per file with gaps; a few lines whose
header time is earlier than the line before (real logs have them). Two key sets: ``style="2018"`` (short
lines as in the dataset's slides) and ``style="v3"`` (Recorder V3 terminal keys). Every line is valid by the
format's grammar: no repeated keys, no bare empty values.

Scenarios: ``benign`` (office background only), ``dropper``, ``script`` (a .js/.vbs/.doc sample launching
an encoded PowerShell), ``wannacry``, ``olympic``, ``petya``, ``stonedrill`` and ``lateral`` (the receiving
host of lateral movement from ``peer``); see :mod:`mk2ds.plugins.synthetic.scenarios`.
"""

from __future__ import annotations

import heapq
import inspect
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from mk2ds.core.atomic import atomic_writer
from mk2ds.plugins.synthetic.background import Office
from mk2ds.plugins.synthetic.scenarios import DEFAULT_EXTENSIONS, SCENARIOS
from mk2ds.plugins.synthetic.story import Sample, Story
from mk2ds.plugins.synthetic.truth import LineTally, ProcessTruth, RelationTruth, ScenarioTruth, fill_truth
from mk2ds.plugins.synthetic.world import JST, Event, Host, World, quote

__all__ = [
    "DEFAULT_START",
    "SCENARIO_NAMES",
    "HeaderForm",
    "Level",
    "LogInfo",
    "ProcessTruth",
    "RelationTruth",
    "ScenarioTruth",
    "Style",
    "generate_lines",
    "scenario_truth",
    "write_log",
]

HeaderForm = Literal["offset", "plain", "mixed"]
Style = Literal["2018", "v3"]
Level = Literal["normal", "verbose"]

DEFAULT_START = datetime(2018, 3, 1, 19, 30, 0, tzinfo=JST)
SCENARIO_NAMES: tuple[str, ...] = tuple(SCENARIOS)
HEADERS = ("offset", "plain", "mixed")
STYLES = ("2018", "v3")
LEVELS = ("normal", "verbose")
#: Lines per second when ``events`` is not given.
DEFAULT_DENSITY = 2.0
#: Average lines per background burst by level (measured), used to pace the background to the line count.
MEAN_BURST = {"normal": 2.2, "verbose": 2.45}
#: Average bytes per line by style (measured), used to turn ``target_bytes`` into a line count.
MEAN_LINE_BYTES = {"2018": 315, "v3": 540}
CHUNK_LINES = 2000


@dataclass(frozen=True)
class LogInfo:
    """What :func:`write_log` wrote."""

    path: str
    lines: int
    bytes: int


def _check(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; not {value!r}")


def generate_lines(
    *,
    seed: int,
    host: str = "PC1",
    scenario: str = "benign",
    start: datetime = DEFAULT_START,
    minutes: float = 30,
    events: int | None = None,
    header: HeaderForm = "offset",
    style: Style = "2018",
    level: Level = "normal",
    boot: bool = False,
    user: str | None = None,
    sample_sha256: str | None = None,
    sample_path: str | None = None,
    sample_size: int | None = None,
    peer: str = "PC1",
    truth: ScenarioTruth | None = None,
) -> Iterator[str]:
    """Lines of a Mark II log, without line terminators, in file order. Deterministic for equal arguments.

    :param seed: the random seed; with the other arguments it fixes every byte.
    :param host: terminal name (``com``); ``PCn`` has the address ``172.24.1.n``.
    :param scenario: one of :data:`SCENARIO_NAMES`.
    :param start: time of the first line; a naive time is taken as JST (+0900). Header times use its offset.
    :param minutes: every line's time lies within ``minutes`` of ``start``; the last is close to the end.
    :param events: about how many lines (default ``DEFAULT_DENSITY`` per second). The scenario's own lines
        are always all written, so a very small number gives more lines.
    :param header: ``offset`` (``MM/DD/YYYY HH:MM:SS.mmm +0900``), ``plain`` (no zone) or ``mixed``.
    :param style: ``2018`` (the dataset's short key set) or ``v3`` (Recorder V3 terminal keys).
    :param level: ``normal`` or ``verbose`` (many more ``subEvt=open`` lines, as the Verbose logs).
    :param boot: start with ``sys/start`` and the boot chain (``sn`` from 1); otherwise system processes
        were running before the log began.
    :param sample_sha256: the sample's hash (random by default); its file is ``D:\\<sha256>.<ext>`` unless
        ``sample_path`` says otherwise. ``sample_size`` is its size in bytes.
    :param peer: for ``lateral``, the host the movement comes from.
    :param truth: a :class:`ScenarioTruth` filled in when the iterator is exhausted.
    :raises ValueError: an unknown scenario, header, style or level, or ``minutes <= 0``.
    """
    options = dict(locals())
    _validate(options)
    return _lines(options, endless=False)


def _validate(options: dict[str, Any]) -> None:
    _check("scenario", options["scenario"], SCENARIO_NAMES)
    _check("header", options["header"], HEADERS)
    _check("style", options["style"], STYLES)
    _check("level", options["level"], LEVELS)
    if options["minutes"] <= 0:
        raise ValueError(f"minutes must be positive; not {options['minutes']!r}")


def _lines(options: dict[str, Any], endless: bool) -> Iterator[str]:
    truth = options["truth"]
    plan = _plan(options)
    window, office, queue, gap = plan.window, plan.office, plan.queue, plan.gap
    next_burst = plan.boot_end
    render = _Renderer(plan.world, options, plan.rng)
    tally = LineTally()
    while True:
        while (endless or next_burst <= window) and (not queue or next_burst <= queue[0][0]):
            for event in office.activity(next_burst):
                if endless or event.time <= window:
                    heapq.heappush(queue, (event.time, event.order, event))
            next_burst += gap * (0.2 + 1.6 * plan.rng.random())
        if not queue:
            break
        event = heapq.heappop(queue)[2]
        if not endless and event.time > window:
            continue
        tally.lines += 1
        yield render(event)
        if truth is not None:
            tally.add(event)
    if truth is not None:
        fill_truth(truth, plan.world, options, plan.sample, tally.lines, tally.emitted, tally.kinds)


@dataclass
class _Plan:
    """Everything a generator run starts from: the world, the office, the sample's story and the event queue."""

    rng: random.Random
    world: World
    office: Office
    sample: Sample
    window: float
    boot_end: float
    queue: list[tuple[float, int, Event]]
    gap: float


def _plan(options: dict[str, Any]) -> _Plan:
    """Set up a run. The order of the random draws is part of the output: keep it when changing this."""
    seed, scenario = options["seed"], options["scenario"]
    rng = random.Random(f"mk2-generator:{seed}:{options['host']}:{scenario}")
    start: datetime = options["start"] if options["start"].tzinfo else options["start"].replace(tzinfo=JST)
    world = World(rng, Host.create(options["host"], options["user"]), start, track=options["truth"] is not None)
    office = Office(world, boot=options["boot"], verbose=options["level"] == "verbose")
    window = options["minutes"] * 60.0
    sample = _sample(world, options)
    boot_end = max((event.time for event in office.boot_events), default=0.0)
    story = Story(world, office, begin=boot_end + window * (0.04 + 0.03 * rng.random()), pace=min(1.0, window / 1800))
    SCENARIOS[scenario](story, sample)

    queue: list[tuple[float, int, Event]] = [
        (event.time, event.order, event) for event in (*office.boot_events, *story.events)
    ]
    heapq.heapify(queue)
    wanted = options["events"] if options["events"] is not None else int(window * DEFAULT_DENSITY)
    gap = window / max(1.0, (wanted - len(queue)) / MEAN_BURST[options["level"]])
    return _Plan(rng, world, office, sample, window, boot_end, queue, gap)


def _sample(world: World, options: dict[str, Any]) -> Sample:
    scenario = options["scenario"]
    sha256 = (options["sample_sha256"] or world.hex(64)).lower()
    extension = DEFAULT_EXTENSIONS.get(scenario, "exe")
    default_path = f"C:\\Windows\\{sha256}.exe" if scenario == "lateral" else f"D:\\{sha256}.{extension}"
    size = options["sample_size"] or 40960 + int(sha256[:4], 16) * 8
    sample = Sample(sha256, options["sample_path"] or default_path, size, options["peer"])
    if scenario not in ("benign", "lateral"):  # the lateral payload arrives during the log
        world.contents[sample.path.lower()] = (sha256, size)
    return sample


class _Renderer:
    """Turns events into lines: numbers them (``sn`` with gaps), writes the header and the key set of the style.

    One random number per line decides the rare variations: an ``sn`` gap (3 %), a header time earlier than
    the line's place (1 %, and always on line 7), and the varied key order (2 %, and always on line 5).
    """

    def __init__(self, world: World, options: dict[str, Any], rng: random.Random) -> None:
        self.world = world
        self.rng = rng
        self.header = options["header"]
        offset = world.start.utcoffset()
        minutes = int(offset.total_seconds() // 60) if offset is not None else 540
        self.zone = f" {'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
        self.sn = 0 if options["boot"] else rng.randrange(800, 6000)
        self.count = 0
        host = world.host
        self.v3 = options["style"] == "v3"
        self.com = f"com={quote(host.name)}"
        self.terminal = f'{self.com} domain="{host.domain}" profile="Standard" tmid={host.tmid} csid={host.csid} ip={host.ip},{host.ipv6} mac={host.mac}'
        self.terminal_short = (
            f'{self.com} domain="{host.domain}" tmid={host.tmid} csid={host.csid} ip={host.ip},{host.ipv6}'
        )

    def __call__(self, event: Event) -> str:
        rng = self.rng
        self.count += 1
        chance = rng.random()
        self.sn += rng.randrange(2, 12) if chance < 0.03 else 1
        sn = event.sn = self.sn
        late = event.late_ms
        if self.count == 7 or 0.03 <= chance < 0.04:
            late = rng.randrange(1, 900)
        head = self.world.stamp_at(event.time - late / 1000 if late and event.time * 1000 > late else event.time)
        if self.header == "offset" or (self.header == "mixed" and rng.random() < 0.5):
            head += self.zone
        reorder = event.reorder or self.count == 5 or 0.04 <= chance < 0.06
        if self.v3:
            kind = (
                f"subEvt={event.sub} evt={event.evt} sn={sn} lv=5"
                if reorder
                else f"sn={sn} lv=5 evt={event.evt} subEvt={event.sub}"
            )
            terminal = self.terminal_short if event.evt in ("os", "session") else self.terminal
            line = f"{head} loc=ja-JP type=ITM2 {kind} os=Win {terminal}"
            if event.process is not None:
                line += f" sessionID={event.process.session_id}"
        else:
            kind = (
                f"subEvt={event.sub} evt={event.evt} sn={sn}"
                if reorder
                else f"sn={sn} evt={event.evt} subEvt={event.sub}"
            )
            line = f"{head} {kind} {self.com}"
        process = event.process
        if process is not None:
            line += f" psGUID={process.guid} psPath={process.quoted_path}"
        if event.fields:
            line += " " + " ".join([f"{key}={value}" for key, value in event.fields])
        return line


def scenario_truth(**options: Any) -> ScenarioTruth:
    """Generate a log (same arguments as :func:`generate_lines`) and return only its ground truth."""
    truth = ScenarioTruth()
    for _ in generate_lines(**options, truth=truth):
        pass
    return truth


def write_log(
    path: str | os.PathLike[str],
    *,
    newline: str = "\r\n",
    encoding: str = "utf-8",
    target_bytes: int | None = None,
    bom: bool = False,
    eof_marker: bool = False,
    **options: Any,
) -> LogInfo:
    """Write a generated log to ``path`` (atomically) and say how many lines and bytes it has.

    :param newline: ``"\\r\\n"`` (as Windows writes) or ``"\\n"``.
    :param encoding: ``utf-8`` or ``cp932`` (every generated value encodes in both).
    :param target_bytes: keep writing until the file has at least this many bytes (benchmarks); the lines
        then continue past ``minutes`` if needed, and the ground truth is not available.
    :param bom: start with a UTF-8 byte-order mark. :param eof_marker: end with a DOS EOF byte (0x1A).
    :param options: the arguments of :func:`generate_lines`.
    """
    if newline not in ("\r\n", "\n"):
        raise ValueError(f"newline must be CRLF or LF; not {newline!r}")
    if target_bytes is not None:
        if options.get("truth") is not None:
            raise ValueError("target_bytes and truth cannot be combined")
        bound = inspect.signature(generate_lines).bind(**options)
        bound.apply_defaults()
        merged = dict(bound.arguments)
        _validate(merged)
        merged["events"] = merged["events"] or max(1, target_bytes // MEAN_LINE_BYTES[merged["style"]])
        lines = _lines(merged, endless=True)
    else:
        lines = generate_lines(**options)
    count = written = 0
    with atomic_writer(path) as handle:
        if bom:
            written += handle.write(b"\xef\xbb\xbf")
        chunk: list[str] = []
        for line in lines:
            chunk.append(line)
            count += 1
            if len(chunk) >= CHUNK_LINES:
                written += handle.write((newline.join(chunk) + newline).encode(encoding))
                chunk.clear()
                if target_bytes is not None and written >= target_bytes:
                    break
        if chunk:
            written += handle.write((newline.join(chunk) + newline).encode(encoding))
        if eof_marker:
            written += handle.write(b"\x1a")
    return LogInfo(os.fspath(path), count, written)
