"""A cheap HTTP load generator: raw sockets, one request per connection, threads.

Gunicorn's sync workers close the connection after every response, so each request opens its
own connection (as wrk's requests do against such a server). The client does as little as it
can per request — send prepared bytes, read until the server closes, check the status line and
a marker — so that it leaves the two cores to the server; its own CPU use is reported.
"""

import http.client
import re
import resource
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from tests.benchmarks.scenario import CSRF_FIELD

USER_AGENT = "rrc-benchmark/1"
CONFLICT_TEXT = b"just taken"
SET_COOKIE = re.compile(r"^session=([^;]+)")


@dataclass
class Result:
    """What one page at one concurrency gave."""

    page: str
    concurrency: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    conflicts: int = 0
    client_cpu: float = 0.0  # share of one core the client used
    sample_error: str = ""

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        """Latency in milliseconds below which ``share`` of the successful requests fall."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
        return ordered[index] * 1000


def raw_get(path: str, cookie: str | None, host: str) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", f"User-Agent: {USER_AGENT}"]
    if cookie:
        lines.append(f"Cookie: session={cookie}")
    lines += ["Accept-Language: en", "Connection: close", "", ""]
    return "\r\n".join(lines).encode()


def raw_post(path: str, body: bytes, cookie: str, host: str) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}",
        f"User-Agent: {USER_AGENT}",
        f"Cookie: session={cookie}",
        "Accept-Language: en",
        "Content-Type: application/x-www-form-urlencoded",
        f"Content-Length: {len(body)}",
        "Connection: close",
        "",
        "",
    ]
    return "\r\n".join(lines).encode() + body


def exchange(address: tuple[str, int], request: bytes, timeout: float) -> bytes:
    """Send one request on a new connection and return the whole response."""
    with socket.create_connection(address, timeout=timeout) as connection:
        connection.sendall(request)
        chunks = []
        while True:
            data = connection.recv(262_144)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


class Session:
    """A logged-in browser as far as the benchmark needs one: the session cookie."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.cookie: str | None = None

    def _request(self, method: str, path: str, body: bytes | None = None):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
        headers = {"User-Agent": USER_AGENT, "Accept-Language": "en"}
        if self.cookie:
            headers["Cookie"] = f"session={self.cookie}"
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            match = SET_COOKIE.match(header)
            if match:
                self.cookie = match.group(1)
        connection.close()
        return response.status, response.headers, content

    def csrf_token(self, path: str) -> str:
        status, _headers, content = self._request("GET", path)
        match = CSRF_FIELD.search(content)
        if status != 200 or not match:
            raise RuntimeError(f"no form at {path} (HTTP {status})")
        return match.group(1).decode()

    def login(self, email: str, password: str) -> None:
        """Log in through the real form (its CSRF token included), as a browser does."""
        self.cookie = None
        token = self.csrf_token("/login")
        body = urlencode({"csrf_token": token, "email": email, "password": password}).encode()
        status, headers, _content = self._request("POST", "/login", body)
        if status != 302 or "/login" in (headers.get("Location") or ""):
            raise RuntimeError(f"login of {email} failed (HTTP {status})")


def check(response: bytes, marker: bytes, submission: bool) -> tuple[bool, bool]:
    """(right answer, slot conflict) of a response."""
    status = response[9:12]
    if submission:
        if status == b"302":
            head = response.split(b"\r\n\r\n", 1)[0]
            return marker in head and b"/edit" not in head, False
        return False, status == b"200" and CONFLICT_TEXT in response
    return status == b"200" and marker in response, False


def measure(
    page: str,
    address: tuple[str, int],
    make_request: Callable[[], bytes],
    marker: bytes,
    concurrency: int,
    duration: float,
    warmup: float,
    submission: bool = False,
    timeout: float = 60.0,
) -> Result:
    """Run ``concurrency`` closed-loop clients for ``warmup + duration`` seconds; only what
    starts after the warm-up is counted."""
    started = time.perf_counter()
    measured_from = started + warmup
    stop_at = measured_from + duration
    records: list[list] = [[] for _ in range(concurrency)]
    finished_at = [measured_from] * concurrency

    def client(number: int) -> None:
        own = records[number]
        while True:
            begin = time.perf_counter()
            if begin >= stop_at:
                break
            try:
                request = make_request()
            except StopIteration:
                break
            try:
                response = exchange(address, request, timeout)
                good, conflict = check(response, marker, submission)
                detail = "" if good else response[:300].decode("latin-1")
            except OSError as error:
                good, conflict, detail = False, False, repr(error)
            end = time.perf_counter()
            if begin >= measured_from:
                own.append((end - begin, good, conflict, detail))
                finished_at[number] = end

    usage_before = resource.getrusage(resource.RUSAGE_SELF)
    threads = [threading.Thread(target=client, args=(n,)) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    usage_after = resource.getrusage(resource.RUSAGE_SELF)
    seconds = max(max(finished_at) - measured_from, 1e-9)
    result = Result(page, concurrency, seconds)
    for own in records:
        for latency, good, conflict, detail in own:
            if good:
                result.latencies.append(latency)
            elif conflict:
                result.conflicts += 1
            else:
                result.errors += 1
                result.sample_error = result.sample_error or detail
    cpu = (usage_after.ru_utime - usage_before.ru_utime) + (
        usage_after.ru_stime - usage_before.ru_stime
    )
    result.client_cpu = cpu / (time.perf_counter() - started)
    return result
