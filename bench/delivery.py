"""Benchmark: end-to-end delivery, Kinesis ingest → signed webhook POST at a local receiver.

Starts ``liveevents serve`` on loopback (SQLite, durability on; or ``--store postgres``: a
throw-away database on the local PostgreSQL server, created and dropped by the run) and a minimal HTTP/1.1
receiver in its own process (asyncio protocol, keep-alive, answers 200, notes the arrival time
and the JWT payload of each request; the payloads are decoded after the run so the receiver
stays cheap).  Producers put realistic raw Canvas records (``support/records.py``: the weighted
mix of event types, ~1.3 KB) with boto3 ``put_records``; a delivery is told apart by its JWT ``jti``,
the event's id.

* **Throughput**: ``--events`` records put as fast as the producers can; deliveries per second
  from the first put to the last arrival, with 1 and with 5 HTTPS subscriptions (raw JWT,
  every event type of the records), after a warm-up run of 2,000 events.
* **Latency**: a steady ``--rate`` events/s for ``--seconds``; per delivery, from the start of
  the ``put_records`` call that carried the event to its arrival; p50/p99.
* **Ceiling**: RS256 signatures per second of the service's current key on one thread, for a
  typical message (the Canvas message of a benchmark record plus ``iss``/``iat``/``jti``),
  measured in the same run.  Throughput is reported as a fraction of it.

Everything shares the machine's cores: the service, the receiver and the producers.

    .venv/bin/python bench/delivery.py [--store sqlite|postgres] [--events 20000] [--rate 500] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import multiprocessing
import statistics
import tempfile
import threading
import time
from collections import Counter
from multiprocessing.connection import Connection
from pathlib import Path

import httpx
import orjson

from support.postgres import DEFAULT_SERVER, store_settings
from support.records import MIX, realistic_records
from support.served import ServedInstance, free_port, fresh_secrets

from liveevents.canvas.message import canvas_message
from liveevents.canvas.record import decode_record
from liveevents.delivery.keys import KeyStore
from liveevents.delivery.signing import jwt_claims, signing_rate

EVENT_TYPES = [kind.name for kind in MIX]


# -- the receiver (own process) ------------------------------------------------------------------


class _Receiver(asyncio.Protocol):
    arrivals: list[tuple[float, bytes, bytes]] = []  # (time, path, JWT payload part)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end]
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            path = head.split(b" ", 2)[1]
            self.arrivals.append((time.time(), path, body.split(b".", 2)[1]))
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")  # type: ignore[attr-defined]


def _serve(port: int, control: Connection) -> None:
    import uvloop

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_Receiver, "127.0.0.1", port, backlog=1024)
        control.send("ready")
        while True:
            if control.poll():
                command = control.recv()
                if command == "take":
                    arrivals, _Receiver.arrivals = _Receiver.arrivals, []
                    control.send(arrivals)
                elif command == "count":
                    control.send(len(_Receiver.arrivals))
                else:
                    server.close()
                    return
            await asyncio.sleep(0.02)

    uvloop.run(main())


class Receiver:
    def __init__(self) -> None:
        self.port = free_port()
        self._control, child = multiprocessing.Pipe()
        self._process = multiprocessing.Process(target=_serve, args=(self.port, child), daemon=True)
        self._process.start()
        self._control.recv()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def count(self) -> int:
        self._control.send("count")
        return self._control.recv()

    def take(self) -> list[tuple[float, bytes, bytes]]:
        self._control.send("take")
        return self._control.recv()

    def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while (arrived := self.count()) < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"only {arrived} of {count} deliveries arrived within {timeout} s")
            time.sleep(0.01)

    def close(self) -> None:
        self._control.send("stop")
        self._process.join(5)


def _event_id(payload_part: bytes) -> str:
    """The JWT's ``jti``: the id of the event it carries."""
    claims = orjson.loads(base64.urlsafe_b64decode(payload_part + b"=" * (-len(payload_part) % 4)))
    return claims["jti"]


# -- the producer side ---------------------------------------------------------------------------


class Run:
    def __init__(self, service: ServedInstance, receiver: Receiver) -> None:
        self.service = service
        self.receiver = receiver
        self.next_seed = 0

    def subscribe(self, count: int) -> list[str]:
        ids = []
        for number in range(count):
            answer = httpx.post(
                self.service.url + "/api/v1/subscriptions",
                headers=self.service.admin_headers(),
                json={"name": f"bench-{number}", "delivery_method": "https", "url": self.receiver.url(f"/hook{number}"), "event_types": EVENT_TYPES},
            )
            answer.raise_for_status()
            ids.append(answer.json()["id"])
        return ids

    def unsubscribe(self, ids: list[str]) -> None:
        for subscription_id in ids:
            httpx.delete(f"{self.service.url}/api/v1/subscriptions/{subscription_id}", headers=self.service.admin_headers()).raise_for_status()

    def batches(self, events: int, size: int) -> list[list[dict[str, object]]]:
        """Fresh realistic records (a new seed per call, so every event id of the run is new)."""
        self.next_seed += 1
        records = [
            {"Data": orjson.dumps(record), "PartitionKey": record["attributes"]["user_id"]}
            for record in realistic_records(events, seed=self.next_seed)
        ]
        return [records[start : start + size] for start in range(0, len(records), size)]

    def throughput(self, subscriptions: int, events: int, producers: int = 2) -> tuple[float, float]:
        """(deliveries/s, events/s) from the first put to the last arrival."""
        ids = self.subscribe(subscriptions)
        batches = self.batches(events, 500)
        clients = [self.service.kinesis() for _ in range(producers)]
        started = time.time()

        def produce(worker: int) -> None:
            for batch in batches[worker::producers]:
                clients[worker].put_records(StreamName="live-events", Records=batch)

        threads = [threading.Thread(target=produce, args=(worker,)) for worker in range(producers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.receiver.wait_for(events * subscriptions, timeout=600)
        arrivals = self.receiver.take()
        self.unsubscribe(ids)
        elapsed = max(arrival for arrival, _, _ in arrivals) - started
        return len(arrivals) / elapsed, events / elapsed

    def latency(self, subscriptions: int, rate: float, seconds: float) -> tuple[float, float, float, int]:
        """(p50 ms, p99 ms, max ms, duplicates) at a steady ``rate`` events/s."""
        ids = self.subscribe(subscriptions)
        tick = 0.05
        per_tick = max(1, round(rate * tick))
        batches = self.batches(int(rate * seconds), per_tick)
        client = self.service.kinesis()
        sent_at: dict[str, float] = {}
        started = time.perf_counter()
        for number, batch in enumerate(batches):
            delay = started + number * tick - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            moment = time.time()
            for record in batch:
                sent_at[decode_record(record["Data"]).event_id] = moment  # type: ignore[arg-type]
            client.put_records(StreamName="live-events", Records=batch)
        expected = len(sent_at) * subscriptions
        self.receiver.wait_for(expected, timeout=120)
        arrivals = self.receiver.take()
        self.unsubscribe(ids)
        seen = Counter((path, _event_id(part)) for _, path, part in arrivals)
        latencies = sorted((arrival - sent_at[_event_id(part)]) * 1000 for arrival, _, part in arrivals)
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        return statistics.median(latencies), p99, latencies[-1], sum(count - 1 for count in seen.values())


def ceiling(data_dir: Path) -> float:
    """RS256 signatures/s of the service's current key, one thread, for a typical message."""
    event = decode_record(orjson.dumps(realistic_records(1)[0]))
    claims = jwt_claims(canvas_message(event), issuer="http://127.0.0.1", event_id=event.event_id, issued_at=int(time.time()))
    return signing_rate(KeyStore(data_dir / "keys").keys().current, claims, seconds=3.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000, help="events per throughput run")
    parser.add_argument("--rate", type=float, default=500.0, help="events/s of the latency runs")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of the latency runs")
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite", help="the service's store")
    parser.add_argument(
        "--postgres", default=DEFAULT_SERVER, help="server for --store postgres (a throw-away database is created there)"
    )
    options = parser.parse_args()

    receiver = Receiver()
    try:
        with tempfile.TemporaryDirectory() as scratch, store_settings(options.store, options.postgres) as store_env:
            with ServedInstance.start(Path(scratch) / "data", secrets=fresh_secrets(), env={"LIVEEVENTS_LOG_LEVEL": "warning", **store_env}) as service:
                run = Run(service, receiver)
                run.throughput(1, 2000)  # warm-up: first connections, imports, caches
                signatures = ceiling(service.data_dir)
                results = {}
                for subscriptions in (1, 5):
                    results[subscriptions] = (
                        run.throughput(subscriptions, options.events),
                        run.latency(subscriptions, options.rate, options.seconds),
                    )
    finally:
        receiver.close()

    store_name = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[options.store]
    print(f"delivery: Kinesis put_records -> liveevents serve ({store_name}) -> HTTP receiver on loopback; raw RS256 JWT bodies")
    print(f"  signing ceiling (RS256, 2048-bit, one thread, same key): {signatures:,.0f} signatures/s")
    for subscriptions, ((deliveries, events), (p50, p99, worst, duplicates)) in results.items():
        print(f"  {subscriptions} subscription{'s' if subscriptions > 1 else ' '}:")
        print(f"    throughput {options.events:,} events: {deliveries:>8,.0f} deliveries/s ({events:,.0f} events/s) = {deliveries / signatures:.2f}x the signing ceiling")
        print(f"    latency at {options.rate:,.0f} events/s: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {worst:.1f} ms; duplicates {duplicates}")
    ok = all(deliveries / signatures >= 0.7 for (deliveries, _), _ in results.values())
    print(f"  targets: throughput >= 0.70x ceiling: {'met' if ok else 'NOT met'}; p99 <= 250 ms: {'met' if all(p99 <= 250 for _, (_, p99, _, _) in results.values()) else 'NOT met'}")


if __name__ == "__main__":
    main()
