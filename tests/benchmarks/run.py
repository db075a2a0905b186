"""Measure a seeded database: serve it with gunicorn (2 workers) and drive it from this process.

    python -m tests.benchmarks.run \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench_large \\
        --small-url postgresql://postgres@127.0.0.1:5432/bench_small

Prints, per page and concurrency, requests/s, p50 and p95 latency, errors and the throughput
as a share of ``/healthz`` measured at the same concurrency in the same run; then (with
``--small-url``) the SQL statements each page sends on the small and on the large set, and the
query plan of the booking overlap check on the measured database.
"""

import argparse
import itertools
import os
import platform
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from rrc.extensions import db
from tests.benchmarks.common import (
    BENCH_DIR,
    PASSWORD,
    database_name,
    database_size,
    megabytes,
    refuse_shared_database,
    server_environment,
)
from tests.benchmarks.load import Result, Session, measure, raw_get, raw_post
from tests.benchmarks.queries import explain_overlap_check, page_costs, portal
from tests.benchmarks.scenario import (
    Scenario,
    Window,
    find_scenario,
    free_windows,
    remove_submissions,
)

REPOSITORY = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn with two sync workers on a free local port, its log in the bench folder."""

    def __init__(self, database_url: str, ratelimit_uri: str, workers: int):
        self.port = free_port()
        self.log = BENCH_DIR / f"gunicorn-{database_name(database_url)}.log"
        command = [
            str(GUNICORN),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "120",
            "--error-logfile",
            str(self.log),
            "--no-control-socket",
            "rrc:create_app()",
        ]
        self.process = subprocess.Popen(
            command, cwd=REPOSITORY, env=server_environment(database_url, ratelimit_uri)
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5):
                    break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start; see {self.log}") from None
                time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}"


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


class Submissions:
    """Hands each submission its own free session (thread-safe), counting what was used."""

    def __init__(self, windows: list[Window], cookie: str, token: str, host: str):
        self.windows = iter(windows)
        self.cookie, self.token, self.host = cookie, token, host
        self.lock = threading.Lock()
        self.used = 0

    def __call__(self) -> bytes:
        with self.lock:
            window = next(self.windows)
            self.used += 1
            number = self.used
        body = window.form(self.token, f"Benchmark submission {number}")
        return raw_post(f"/requests/new/{window.code}", body, self.cookie, self.host)


WRK_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_PERCENTILE = re.compile(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
# Non-2xx answers and socket errors (wrk gives up on a request after 2 s: "timeout").
WRK_ERRORS = re.compile(r"(?:Non-2xx or 3xx responses: |(?:connect|read|write|timeout) )(\d+)")


def run_wrk(url: str, cookie: str | None, concurrency: int, duration: float) -> str:
    """Debian's wrk on the same URL, for comparison: requests/s and p50/p90/p99 in ms."""
    command = [
        "wrk",
        f"--threads={min(concurrency, 2)}",
        f"--connections={concurrency}",
        f"--duration={max(int(duration), 1)}s",
        "--latency",
        "--header=Accept-Language: en",
    ]
    if cookie:
        command.append(f"--header=Cookie: session={cookie}")
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = WRK_RATE.search(output)
    percentiles = {
        share: float(value) * WRK_UNITS[unit]
        for share, value, unit in WRK_PERCENTILE.findall(output)
    }
    errors = sum(int(count) for count in WRK_ERRORS.findall(output))
    return (
        f"{float(rate.group(1)) if rate else 0:>8.1f} {percentiles.get('50', 0):>8.1f} "
        f"{percentiles.get('90', 0):>8.1f} {percentiles.get('99', 0):>8.1f} "
        f"{errors:>6}"
    )


def run_load(
    database_url: str,
    scenario: Scenario,
    windows: list[Window],
    concurrencies: list[int],
    duration: float,
    warmup: float,
    ratelimit_uri: str,
    workers: int,
    wrk: bool = False,
) -> list[Result]:
    server = Server(database_url, ratelimit_uri, workers)
    address = ("127.0.0.1", server.port)
    host = f"127.0.0.1:{server.port}"
    results: list[Result] = []
    compared: list[str] = []
    remaining = iter(windows)
    try:
        for concurrency in concurrencies:
            # Fresh logins for every level (the portal ends idle sessions).
            sessions = {}
            for role, email in scenario.logins.items():
                session = Session(*address)
                session.login(email, PASSWORD)
                sessions[role] = session
            for page in scenario.pages:
                if page.submission:
                    session = sessions["submitter"]
                    token = session.csrf_token(f"/requests/new/{scenario.submission_codes[0]}")
                    make = Submissions(
                        list(itertools.islice(remaining, 50_000)), session.cookie, token, host
                    )
                else:
                    cookie = sessions[page.role].cookie if page.role else None
                    request = raw_get(page.path, cookie, host)

                    def make(request=request) -> bytes:
                        return request

                result = measure(
                    page.name,
                    address,
                    make,
                    page.marker,
                    concurrency,
                    duration,
                    warmup,
                    submission=page.submission,
                )
                if page.submission:
                    # Sessions handed out but not used go back to the pool for the next level.
                    remaining = itertools.chain(make.windows, remaining)
                results.append(result)
                print(f"  {format_row(result, results)}", flush=True)
                if wrk and not page.submission:
                    url = f"http://{host}{page.path}"
                    figures = run_wrk(url, cookie, concurrency, duration)
                    compared.append(f"{page.name:<24} {concurrency:>4} {figures}")
    finally:
        server.stop()
    if compared:
        print("\nThe same GET pages driven by wrk (for comparison; wrk reports p90/p99, not p95)")
        print(f"  {'page':<24} {'conc':>4} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} "
              f"{'p99 ms':>8} {'errors':>6}")  # fmt: skip
        for line in compared:
            print(f"  {line}")
    return results


HEADER = (
    f"{'page':<24} {'conc':>4} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>6} "
    f"{'conflicts':>9} {'vs healthz':>10} {'client CPU':>10}"
)


def format_row(result: Result, results: list[Result]) -> str:
    healthz = next(
        (
            other.throughput
            for other in results
            if other.page == "/healthz" and other.concurrency == result.concurrency
        ),
        0.0,
    )
    ratio = f"{100 * result.throughput / healthz:.0f} %" if healthz else "-"
    return (
        f"{result.page:<24} {result.concurrency:>4} {result.throughput:>8.1f} "
        f"{result.percentile(0.50):>8.1f} {result.percentile(0.95):>8.1f} {result.errors:>6} "
        f"{result.conflicts:>9} {ratio:>10} {100 * result.client_cpu:>9.0f}%"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="the seeded database to measure")
    parser.add_argument(
        "--small-url", help="the small seeded set of the same kind: compare SQL query counts"
    )
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per point")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before measuring")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--ratelimit-uri",
        default="redis://127.0.0.1:6379/7",
        help="rate-limit storage of the server (memory:// works too)",
    )
    parser.add_argument("--skip-load", action="store_true", help="only counts and plans")
    parser.add_argument(
        "--keep-submissions",
        action="store_true",
        help="keep the requests the run filed (by default they are deleted at the end)",
    )
    parser.add_argument(
        "--wrk", action="store_true", help="also drive each GET page with Debian's wrk"
    )
    args = parser.parse_args(argv)
    refuse_shared_database(args.database_url)

    print(f"RRC benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}")
    print(f"load average before: {load_average()}")
    app = portal(args.database_url)
    with app.app_context():
        scenario = find_scenario()
        windows = free_windows()
        size = database_size(db.engine)
        db.engine.dispose()
    print(f"database: {database_name(args.database_url)} ({megabytes(size)})")
    print(
        f"busy resource {scenario.busy_code}, week of {scenario.week_start} "
        f"({scenario.week_bookings} active bookings); request {scenario.request_reference} "
        f"of {scenario.request_owner}; submissions by {scenario.submitter} into "
        f"{len(scenario.submission_codes)} resources ({len(windows)} free one-hour sessions)"
    )
    if not args.skip_load:
        print(
            f"\ngunicorn --workers {args.workers} (sync), {args.duration:g} s per point after "
            f"{args.warmup:g} s warm-up, closed-loop clients, a new connection per request"
        )
        print(f"  {HEADER}")
        results = run_load(
            args.database_url,
            scenario,
            windows,
            args.concurrency,
            args.duration,
            args.warmup,
            args.ratelimit_uri,
            args.workers,
            wrk=args.wrk,
        )
        print(f"load average after: {load_average()}")
        for result in results:
            if result.errors:
                print(
                    f"first error of {result.page} at {result.concurrency}: {result.sample_error!r}"
                )
    if args.small_url:
        refuse_shared_database(args.small_url)
        _scenario, small = page_costs(args.small_url)
        _scenario, large = page_costs(args.database_url)
        print(
            "\nPer page, in process (Flask test client on the seeded databases): SQL statements"
            "\n(transaction control not counted) and the portal process's CPU time per visit"
            "\n(the database server's own work not included)"
        )
        print(
            f"  {'page':<24} {'SQL small':>9} {'SQL large':>9} {'CPU small':>10} {'CPU large':>10}"
        )
        for name, cost in large.items():
            flag = "" if small[name].statements == cost.statements else "  <- differs"
            print(
                f"  {name:<24} {small[name].statements:>9} {cost.statements:>9} "
                f"{small[name].cpu_ms:>7.1f} ms {cost.cpu_ms:>7.1f} ms{flag}"
            )
    print()
    print(explain_overlap_check(args.database_url))
    if not args.keep_submissions:
        for url in filter(None, (args.database_url, args.small_url)):
            app = portal(url)
            with app.app_context():
                removed = remove_submissions()
                db.engine.dispose()
            print(f"\nremoved the {removed} requests the benchmark filed in {database_name(url)}")


if __name__ == "__main__":
    main()
