"""Parse hostile files in a child process with a time limit and a memory limit.

pefile has hung and exhausted memory on malformed samples (pefile #15, #44, #302, #312). A sample must not
take the run down, so parsing happens in a long-lived child process (``python -I``, running
:func:`child_main` of this module):

* the child sets ``RLIMIT_AS`` on itself before it reads any input, so an allocation beyond the limit raises
  ``MemoryError`` there (reported as ``memory``) instead of swapping the machine;
* the parent waits for each answer at most ``timeout`` seconds; a child that does not answer in time is
  killed and replaced (reported as ``timeout``);
* a child that dies (a crash in a C extension, the kernel's OOM killer) is reported as ``crashed``.

The child starts isolated (``-I``: no current folder, no ``PYTHONPATH``, no user site-packages on
``sys.path``) in a fixed working folder: ``mk2ds verify .`` run inside a dataset that holds an
``argparse.py`` or ``pefile.py`` must not import it. The folder holding ``mk2ds`` is appended to the end of
the child's ``sys.path`` (after the standard library and site-packages), so a source checkout works too.

The child is reused across files (starting Python and importing pefile costs ~100 ms; parsing a typical
executable ~5 ms), and replaced only after a timeout, a memory error or a crash.

Protocol on the child's stdin/stdout: each message is a 4-byte little-endian length and that many bytes. A
request is a JSON header message (``{"task": "facts"|"dump"|"impfuzzy"}``) followed by a data message; the answer is
one JSON message ``{"status": "ok"|"memory"|"error", "value": ..., "message": ...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import IO, Any, BinaryIO, Literal

__all__ = [
    "DEFAULT_MAX_SIZE_MB",
    "DEFAULT_MEMORY_MB",
    "DEFAULT_TIMEOUT",
    "GuardResult",
    "GuardedParser",
    "Task",
    "run_task",
]

DEFAULT_TIMEOUT = 30.0
DEFAULT_MEMORY_MB = 1024
DEFAULT_MAX_SIZE_MB = 256  # pefile's own max_offset default

Status = Literal["ok", "timeout", "memory", "crashed", "error"]

#: The child's answer, and then its exit status, when the memory limit was hit (also while reading the file).
MEMORY_ANSWER = b'{"status": "memory"}'
MEMORY_EXIT = 86
Task = Literal["facts", "dump", "impfuzzy"]


@dataclass(frozen=True)
class GuardResult:
    status: Status
    value: Any = None
    message: str = ""


def run_task(task: str, data: bytes) -> Any:
    """Do the work of one request (in the child, or in-process when unguarded)."""
    from mk2ds.plugins.pe.facts import analyze

    if task == "impfuzzy":  # the minimum: imphash and impfuzzy (headers and import directory only)
        from mk2ds.plugins.pe.impfuzzy import fuzzy_hash, import_string, parse_imports_only

        pe = parse_imports_only(data)  # not closed: see impfuzzy_of_bytes
        text = import_string(pe)
        return {"impfuzzy": fuzzy_hash(text), "import_string": text, "imphash": pe.get_imphash()}
    if task == "facts":
        return analyze(data)
    if task == "dump":
        return analyze(data, dump_info=True)
    raise ValueError(f"unknown task {task!r}")


# ----------------------------------------------------------------------------------------------------------
# Parent side
# ----------------------------------------------------------------------------------------------------------


class GuardedParser:
    """Runs tasks in a child process with limits; ``guarded=False`` runs them in-process (benchmarks only).

    Not thread-safe: use one instance per thread.
    """

    def __init__(
        self, *, timeout: float = DEFAULT_TIMEOUT, memory_mb: int | None = DEFAULT_MEMORY_MB, guarded: bool = True
    ) -> None:
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.guarded = guarded
        self._process: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def __enter__(self) -> GuardedParser:  # noqa: PYI034 - typing.Self needs Python 3.11
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        try:
            if process.stdin:
                process.stdin.close()
            process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()
        finally:
            if process.stdout:
                process.stdout.close()

    def run(self, task: Task, data: bytes) -> GuardResult:
        if not self.guarded:
            try:
                return GuardResult("ok", run_task(task, data))
            except MemoryError:
                return GuardResult("memory", message="out of memory")
            except Exception as error:  # noqa: BLE001 - reported, like in the child
                return GuardResult("error", message=f"{type(error).__name__}: {error}")
        process = self._ensure_process()
        assert process.stdin is not None and process.stdout is not None
        deadline = time.monotonic() + self.timeout
        try:
            try:
                _write_message(process.stdin, json.dumps({"task": task}).encode())
                _write_message(process.stdin, data)
                process.stdin.flush()
            except BrokenPipeError:
                pass  # the child stopped reading (the file did not fit its memory limit): its answer says why
            answer = _read_message(process.stdout, deadline)
        except TimeoutError:
            self._kill()
            return GuardResult("timeout", message=f"no answer within {self.timeout:g} s; parsing stopped")
        except (OSError, EOFError, ValueError) as error:
            try:
                code: int | None = process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                code = None
            self._kill()
            if code == MEMORY_EXIT:
                return self._memory_result()
            return GuardResult("crashed", message=f"parser process died ({_describe_exit(code)}): {error}")
        result = json.loads(answer)
        status = result.get("status")
        if status == "memory":
            self._kill()  # the heap may be in a poor state; start afresh
            return self._memory_result()
        if status == "error":
            return GuardResult("error", message=str(result.get("message", "")))
        return GuardResult("ok", result.get("value"))

    def _memory_result(self) -> GuardResult:
        limit = f"{self.memory_mb} MiB" if self.memory_mb else "the system"
        return GuardResult("memory", message=f"parsing needed more memory than {limit} allows")

    def _ensure_process(self) -> subprocess.Popen[bytes]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        if self._process is not None:
            self._kill()
        self._process = subprocess.Popen(
            child_command(self.memory_mb),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=0,
            cwd=_CHILD_CWD,
        )
        self.restarts += 1
        return self._process

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream:
                try:
                    stream.close()
                except OSError:
                    pass


#: The child's working folder: fixed, never the user's (which may be a dataset full of hostile files).
_CHILD_CWD = os.path.abspath(os.sep)


def child_command(memory_mb: int | None) -> list[str]:
    """The isolated command line of the parser child (see the module documentation)."""
    # This file is <root>/mk2ds/plugins/pe/guard.py.
    package_root = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), *[os.pardir] * 3))
    code = (
        "import sys; sys.path.append(sys.argv[1]); "
        "from mk2ds.plugins.pe.guard import main; sys.exit(main(sys.argv[2:]))"
    )
    command = [sys.executable, "-I", "-c", code, package_root, "--child"]
    if memory_mb:
        command += ["--memory-mb", str(memory_mb)]
    return command


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        return f"killed by signal {-code}"
    return f"exit status {code}"


def _write_message(stream: BinaryIO | IO[bytes], payload: bytes) -> None:
    stream.write(struct.pack("<I", len(payload)))
    stream.write(payload)


def _read_exactly(stream: BinaryIO | IO[bytes], size: int, deadline: float | None) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    descriptor = stream.fileno()
    while remaining:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0:
                raise TimeoutError
            ready, _, _ = select.select([descriptor], [], [], wait)
            if not ready:
                raise TimeoutError
        chunk = os.read(descriptor, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("unexpected end of stream")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _read_message(stream: BinaryIO | IO[bytes], deadline: float | None = None) -> bytes:
    (size,) = struct.unpack("<I", _read_exactly(stream, 4, deadline))
    return _read_exactly(stream, size, deadline)


# ----------------------------------------------------------------------------------------------------------
# Child side
# ----------------------------------------------------------------------------------------------------------


def _limit_memory(megabytes: int) -> None:
    import resource

    limit = megabytes * 1024 * 1024
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def child_main(memory_mb: int | None) -> int:
    import mk2ds.plugins.pe.facts  # noqa: F401 - import before limiting memory and before the first request

    if memory_mb:
        _limit_memory(memory_mb)
    # The protocol owns the real stdout; anything a library prints goes to stderr instead.
    stdin, stdout = sys.stdin.buffer, os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    while True:
        try:
            header = json.loads(_read_message(stdin))
            data = _read_message(stdin)
        except EOFError:
            return 0
        except MemoryError:  # the file itself does not fit the limit: say so, then let the parent restart us
            _write_message(stdout, MEMORY_ANSWER)
            stdout.flush()
            return MEMORY_EXIT
        try:
            answer: dict[str, Any] = {"status": "ok", "value": run_task(str(header.get("task")), data)}
            payload = json.dumps(answer).encode()
        except MemoryError:
            del data
            payload = MEMORY_ANSWER
        except Exception as error:  # noqa: BLE001 - reported to the parent, the child carries on
            payload = json.dumps({"status": "error", "message": f"{type(error).__name__}: {error}"}).encode()
        _write_message(stdout, payload)
        stdout.flush()
        if payload == MEMORY_ANSWER:
            return MEMORY_EXIT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="mk2ds PE parser child process (internal)")
    parser.add_argument("--child", action="store_true", required=True)
    parser.add_argument("--memory-mb", type=int, default=None)
    args = parser.parse_args(argv)
    try:
        return child_main(args.memory_mb)
    except MemoryError:  # anywhere else (answering, say): the exit status tells the parent why
        return MEMORY_EXIT


if __name__ == "__main__":
    sys.exit(main())
