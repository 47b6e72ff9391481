"""SIPp processes for the sandbox's SIP trunk and desk phones, and what they logged.

- ``Phones``: one SIPp process per kind of phone (``telephony/sandbox/sipp/phones.txt``) in server mode on
  the kind's port, which is the static contact of every PJSIP endpoint ``sip-<kind>-<n>``.
- ``place``: one SIPp process placing a list of calls from 127.0.0.2 (the trunk's ``identify``) to
  Asterisk at 127.0.0.1:5060, at a rate, then exiting.

Every process is bounded: SIPp's own ``-timeout`` stops it after ``limit_s``, a caller after its ``-m``
calls, and ``stop()`` ends it. Everything is on loopback. What a test asserts on are the ``Step``s the
scenarios log (``phone.xml``, ``caller.xml``): invite, cancel, busy, answer, ack, bye-received, bye-sent
on a phone; invite-sent, answered, bye-received, bye-sent on a caller.
"""

from __future__ import annotations

import asyncio
import math
import re
import shutil
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

ROOT = Path(__file__).resolve().parents[3]
SCENARIOS = ROOT / "telephony" / "sandbox" / "sipp"
PCAP = Path("/usr/share/sip-tester/g711a.pcap")  # Debian's sip-tester ships it; linked beside each process
ASTERISK = "127.0.0.1:5060"
TRUNK_ADDRESS = "127.0.0.2"  # pjsip.conf: calls from here are the trunk's
PHONE_ADDRESS = "127.0.0.1"  # the phones' static contacts
CALLER_MEDIA_PORT = 41000  # the port a caller's SDP offers; SIPp sends its pcap from it


class SippError(Exception):
    """A SIPp process could not start, or its port is taken (another run's phones still up?)."""


def sipp_binary() -> str | None:
    return shutil.which("sipp")


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of desk phone: its code for phone.xml (``-set kind``), its port, how many the sandbox has."""

    name: str
    code: int
    port: int
    count: int

    def phone(self, n: int) -> str:
        if not 1 <= n <= self.count:
            raise ValueError(f"the sandbox has phones sip-{self.name}-1 to sip-{self.name}-{self.count}")
        return f"sip-{self.name}-{n}"


def read_kinds(path: Path = SCENARIOS / "phones.txt") -> dict[str, Kind]:
    kinds: dict[str, Kind] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split("#", 1)[0].split()
        if fields:
            name, code, port, count = fields[:4]
            kinds[name] = Kind(name, int(code), int(port), int(count))
    return kinds


KINDS = read_kinds()


def endpoint(kind: str, n: int = 1) -> str:
    """The Asterisk endpoint of phone ``n`` of ``kind``, as an agent's ``endpoint`` in a plan."""
    return f"PJSIP/{KINDS[kind].phone(n)}"


def kind_of(phone: str) -> Kind:
    return KINDS[phone.removeprefix("sip-").rsplit("-", 1)[0]]


@dataclass(frozen=True, slots=True)
class Step:
    """One logged step of a call in SIPp: when (SIPp's clock, seconds since the epoch), what, and who.

    On a phone ``target`` is the phone (``sip-answer-1``) and ``party`` the caller's number as the
    INVITE's From says; on a caller ``target`` is the DID dialled and ``party`` the caller's number.
    """

    at: float
    step: str
    call_id: str
    target: str
    party: str


_LINE = re.compile(r"\t(?P<at>\d+\.\d+) (?P<step>\S+) (?P<call_id>\S+) (?P<rest>.*)$")
_URI_USER = re.compile(r"sip:([^@;>\s]+)@")


def parse_steps(text: str) -> list[Step]:
    """The steps of a scenario's log (``<date>\\t<time>\\t<epoch> <step> <Call-ID> <target> <party>``)."""
    steps = []
    for line in text.splitlines():
        m = _LINE.search(line)
        if m is not None:
            steps.append(Step(float(m["at"]), m["step"], m["call_id"], *_who(m["rest"])))
    return steps


def _who(rest: str) -> tuple[str, str]:
    users = _URI_USER.findall(rest)  # a phone logs the To and From headers
    if len(users) >= 2:
        return users[0], users[1]
    words = rest.split()  # a caller logs its DID and number
    return (words[0], words[1]) if len(words) >= 2 else (rest, "")


def udp_listening(host: str, port: int) -> bool:
    """Whether some process has a UDP socket bound to ``host:port`` (read from /proc/net/udp)."""
    want = f"{socket.inet_aton(host)[::-1].hex().upper()}:{port:04X}"
    with open("/proc/net/udp", encoding="ascii") as table:
        return any(line.split()[1] == want for line in list(table)[1:])


def free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
    return port


class Sipp:
    """One SIPp process with its files in ``workdir``; SIPp stops by itself after ``limit_s``."""

    def __init__(self, workdir: Path, name: str, args: Sequence[str], limit_s: float) -> None:
        self.workdir, self.name = workdir, name
        self.log = workdir / f"{name}.log"
        self.error_log = workdir / f"{name}.errors"
        self.args = [*args, "-timeout", f"{math.ceil(limit_s)}s", "-nostdin", "-aa",
                     "-trace_logs", "-log_file", str(self.log),
                     "-trace_err", "-error_file", str(self.error_log)]  # fmt: skip
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        binary = sipp_binary()
        if binary is None:
            raise SippError("sipp is not installed (apt-get install sip-tester)")
        with self._prepare() as out:
            self.proc = await asyncio.create_subprocess_exec(
                binary, *self.args, cwd=self.workdir, stdin=asyncio.subprocess.DEVNULL, stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip

    def _prepare(self) -> BinaryIO:
        """The working directory with the pcap the scenarios play, and the file for SIPp's screen."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        pcap = self.workdir / PCAP.name
        if not pcap.exists():
            pcap.symlink_to(PCAP)  # SIPp looks for it beside the scenario, then in its working directory
        return (self.workdir / f"{self.name}.out").open("wb")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    def steps(self) -> list[Step]:
        try:
            return parse_steps(self.log.read_text(encoding="utf-8", errors="replace"))
        except FileNotFoundError:
            return []

    def errors(self) -> str:
        """What SIPp reported, less its notice about where it found the pcap file."""
        try:
            text = self.error_log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(line for line in text.splitlines() if "pcap files next to" not in line)[-3000:]

    async def wait_for(self, step: str, target: str | None = None, timeout: float = 10.0) -> Step:
        """The first ``step`` logged (for ``target``), waiting up to ``timeout`` seconds for it."""
        deadline = time.monotonic() + timeout
        while True:
            found = [s for s in self.steps() if s.step == step and target in (None, s.target)]
            if found:
                return found[0]
            if not self.running or time.monotonic() > deadline:
                seen = [(s.step, s.target) for s in self.steps()]
                raise AssertionError(
                    f"{self.name}: no {step!r} for {target or 'any call'} within {timeout} s; "
                    f"logged {seen}; errors: {self.errors() or 'none'}"
                )
            await asyncio.sleep(0.02)

    async def listening(self, host: str, port: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not udp_listening(host, port):
            if not self.running or time.monotonic() > deadline:
                raise SippError(f"{self.name} did not start listening on {host}:{port}: {self.errors()}")
            await asyncio.sleep(0.02)

    async def finished(self, timeout: float) -> int:
        """SIPp's exit status (0: every call succeeded), waiting up to ``timeout`` seconds."""
        assert self.proc is not None
        return await asyncio.wait_for(self.proc.wait(), timeout)

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), 5)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


class Phones:
    """The desk phones of the kinds started, one SIPp process per kind."""

    def __init__(self, workdir: Path, limit_s: float = 600.0) -> None:
        self.workdir, self.limit_s = workdir, limit_s
        self.by_kind: dict[str, Sipp] = {}

    async def start(self, *kinds: str) -> None:
        for name in kinds:
            kind = KINDS[name]
            if udp_listening(PHONE_ADDRESS, kind.port):
                raise SippError(f"{PHONE_ADDRESS}:{kind.port} ({name} phones) is taken by another process")
            args = ["-sf", str(SCENARIOS / "phone.xml"), "-set", "kind", str(kind.code),
                    "-i", PHONE_ADDRESS, "-p", str(kind.port),
                    "-mi", PHONE_ADDRESS, "-mp", str(40000 + 100 * kind.code)]  # fmt: skip
            sipp = self.by_kind[name] = Sipp(self.workdir, f"phones-{name}", args, self.limit_s)
            await sipp.start()
            await sipp.listening(PHONE_ADDRESS, kind.port)

    def of(self, phone: str) -> Sipp:
        return self.by_kind[kind_of(phone).name]

    def steps(self, phone: str) -> list[Step]:
        return [s for s in self.of(phone).steps() if s.target == phone]

    def did(self, phone: str) -> list[str]:
        """The phone's steps in order, e.g. ``["invite", "answer", "ack", "bye-received"]``."""
        return [s.step for s in self.steps(phone)]

    async def wait_for(self, phone: str, step: str, timeout: float = 10.0) -> Step:
        return await self.of(phone).wait_for(step, phone, timeout)

    async def stop(self) -> None:
        await asyncio.gather(*(sipp.stop() for sipp in self.by_kind.values()))


@dataclass(frozen=True, slots=True)
class Call:
    """A call for the trunk: the caller's number, the DID, and the header line that picks where it goes
    (``to_app``, ``to_queue``)."""

    caller: str
    did: str
    route: str


def to_app(app: str) -> str:
    return f"X-SB-App: {app}"


def to_queue(queue: str) -> str:
    return f"X-SB-Queue: {queue}"


async def place(
    workdir: Path, name: str, calls: Sequence[Call], rate: float = 10.0, hold_ms: int = 0,
    limit_s: float = 60.0,
) -> Sipp:  # fmt: skip
    """Start a SIPp caller placing ``calls`` in order at ``rate`` calls/s from the trunk's address; it
    exits after the last one. With ``hold_ms`` each caller hangs up that long after being answered,
    else it waits for Asterisk's BYE."""
    sipp = Sipp(workdir, name, caller_args(workdir, name, calls, rate, hold_ms), limit_s)
    await sipp.start()
    return sipp


def caller_args(workdir: Path, name: str, calls: Sequence[Call], rate: float, hold_ms: int) -> list[str]:
    """SIPp's arguments for ``place``, with the injection file (one line per call) written."""
    for call in calls:
        if any(c in f"{call.caller}{call.did}{call.route}" for c in ";\n"):
            raise ValueError(f"a call's fields cannot hold ';' or a newline: {call}")
    workdir.mkdir(parents=True, exist_ok=True)
    injection = workdir / f"{name}.csv"
    lines = "".join(f"{c.caller};{c.did};{c.route};\n" for c in calls)
    injection.write_text(f"SEQUENTIAL\n{lines}", encoding="utf-8")
    return [ASTERISK, "-sf", str(SCENARIOS / "caller.xml"), "-inf", str(injection),
            "-set", "hold_ms", str(hold_ms), "-i", TRUNK_ADDRESS, "-p", str(free_udp_port(TRUNK_ADDRESS)),
            "-mi", TRUNK_ADDRESS, "-mp", str(CALLER_MEDIA_PORT), "-m", str(len(calls)), "-l", str(len(calls)),
            "-r", str(rate), "-rp", "1000"]  # fmt: skip
