"""An application that follows the Switchback sidecar: produces and consumes ``orders``.

It shows the reconnect logic an application needs (and the end-to-end tests run it):

- it asks the agent beside it which site is active (``switchback_sidecar.SidecarFollower``);
- it produces and consumes only while the answer is ``serving``; on ``promoting``, ``switching``
  or ``fenced`` it stops producing, commits what it consumed, and waits;
- on a new epoch it flushes the old producer briefly and creates new clients on the announced
  bootstrap servers; the old consumer is closed in the background, because a consumer's close
  waits for a group coordinator that may be in the failed datacenter;
- it subscribes with a pattern that covers the local topic and its mirrored copies
  (``^(.*\\.)?orders$`` under the ``prefix`` policy), and commits after each batch it processed;
- it never waits for the old cluster without a deadline: commits are asynchronous, the last one
  before a switch waits at most 2 s, and a brief flush is followed by a purge. A synchronous
  commit to a coordinator in a failed datacenter blocks until the app is killed.

Usage:
  python3 orders_app.py --agent http://127.0.0.1:7070 --rate 200 --count 10000 \\
      --acked acked.jsonl --delivered delivered.jsonl

``--acked`` gets one JSON line per acknowledged record, ``--delivered`` one per record consumed,
each with the key, the site and bootstrap servers of the cluster the app used, where the record
is (topic, partition, offset) and when (``at``, Unix seconds); a record lost is acknowledged and
never delivered, a duplicate is delivered more than once. ``--count 0`` produces until
interrupted. SIGTERM or SIGINT stops at once (after a brief flush and a commit); SIGUSR1 stops
producing and exits once every acknowledged record has been consumed. Needs confluent-kafka
(``pip install confluent-kafka``).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer

from switchback_sidecar import ActiveSite, SidecarFollower


class JsonLines:
    """An append-only JSON-lines file, flushed per line, safe to write from several threads."""

    def __init__(self, path):
        self._file = open(path, "a", encoding="utf-8") if path else None
        self._lock = threading.Lock()

    def write(self, record: dict) -> None:
        if self._file is None:
            return
        with self._lock:
            self._file.write(json.dumps(record, separators=(",", ":")) + "\n")
            self._file.flush()


class OrdersApp:
    def __init__(self, args):
        self.args = args
        self.acked = JsonLines(args.acked)
        self.delivered = JsonLines(args.delivered)
        self.changed = threading.Event()
        self.stopping = threading.Event()
        # Set by SIGUSR1: produce no more, exit once every acknowledged record was consumed.
        self.finishing = threading.Event()
        self.next_key = 0
        self.acked_count = 0
        self.delivered_count = 0
        self.acked_keys = set()
        self.delivered_keys = set()
        self.follower = SidecarFollower(
            args.agent, on_change=self._on_change,
            on_unreachable=lambda error: log(f"agent unreachable: {error}"), wait_seconds=args.wait,
            ca_file=args.ca)

    def _on_change(self, previous, current: ActiveSite) -> None:
        log(f"sidecar: epoch {current.epoch} active {current.active_site} state {current.state} "
            f"bootstrap {current.bootstrap}")
        self.changed.set()

    def run(self) -> int:
        self.follower.start()
        producer = reader = None
        answer = None
        interval = 1.0 / self.args.rate if self.args.rate > 0 else 0.0
        next_send = time.monotonic()
        try:
            while not self.stopping.is_set():
                if self.changed.is_set() or answer is None:
                    self.changed.clear()
                    latest = self.follower.current
                    if latest != answer:
                        producer, reader = self._switch(producer, reader, answer, latest)
                        answer = latest
                if answer is None or not answer.usable or producer is None:
                    self.changed.wait(0.05)
                    continue
                done_producing = self.finishing.is_set() or (self.args.count and self.next_key >= self.args.count)
                if not done_producing and time.monotonic() >= next_send:
                    self._produce(producer, answer)
                    next_send += interval
                    if next_send < time.monotonic() - 1.0:
                        next_send = time.monotonic()
                producer.poll(0)
                self._consume(reader, answer)
                if done_producing and self._settled(producer) and self.acked_keys <= self.delivered_keys:
                    if self.args.exit_when_done or self.finishing.is_set():
                        break
        finally:
            self._retire(producer, reader)
            self.follower.stop()
        log(f"acknowledged {self.acked_count}, delivered {self.delivered_count}")
        return 0

    def _settled(self, producer) -> bool:
        return producer is not None and len(producer) == 0

    def _switch(self, producer, reader, old: ActiveSite, new: ActiveSite):
        """Stops using the old clients; creates new ones when the new answer is usable."""
        same_cluster = old is not None and new is not None and (old.epoch, old.bootstrap) == (new.epoch, new.bootstrap)
        if new is not None and new.usable and same_cluster and producer is not None:
            return producer, reader
        self._retire(producer, reader)
        if new is None or not new.usable:
            return None, None
        producer = Producer({
            "bootstrap.servers": new.bootstrap, "enable.idempotence": True, "acks": "all",
            "linger.ms": 5, "message.timeout.ms": 10000,
        })
        commits = Commits()
        consumer = Consumer({
            "bootstrap.servers": new.bootstrap, "group.id": self.args.group,
            "enable.auto.commit": False, "auto.offset.reset": "earliest",
            "session.timeout.ms": 6000, "topic.metadata.refresh.interval.ms": 1000,
            "on_commit": commits.answered,
        })
        consumer.subscribe([self.args.pattern])
        return producer, GroupReader(consumer, commits)

    def _retire(self, producer, reader) -> None:
        """Lets go of the old clients without ever waiting long for the old cluster.

        A synchronous commit, a flush without a limit or a consumer's close all wait for the
        old cluster, and after an unplanned failover it is gone: the app would hang and never
        use the new site. So: a brief flush, then what is still unacknowledged is purged (its
        delivery reports say so; it was never acknowledged). The group's position is committed
        with a deadline (in a planned switchover the coordinator answers at once, well before
        the agents, having drained the flow, translate the group's offsets), and the consumer
        is closed in the background.
        """
        if producer is not None:
            producer.flush(2.0)
            if len(producer) > 0:
                producer.purge()
                producer.poll(0)
        if reader is not None:
            if not reader.commit_position(timeout=2.0):
                log("final commit: not answered within 2 s (the old cluster is gone?)")
            threading.Thread(target=reader.consumer.close, name="close-old-consumer", daemon=True).start()

    def _produce(self, producer, answer: ActiveSite) -> None:
        key = str(self.next_key)
        self.next_key += 1
        site = answer.active_site
        bootstrap = answer.bootstrap

        def delivered(error, message, key=key, site=site, bootstrap=bootstrap):
            if error is not None:
                log(f"record {key} not acknowledged: {error}")
                return
            self.acked_count += 1
            self.acked_keys.add(key)
            self.acked.write({"key": key, "site": site, "bootstrap": bootstrap, "topic": message.topic(),
                              "partition": message.partition(), "offset": message.offset(), "at": time.time()})

        try:
            producer.produce(self.args.topic, key=key.encode(), value=f"order {key}".encode(), on_delivery=delivered)
        except BufferError:
            self.next_key -= 1
            producer.poll(0.05)

    def _consume(self, reader, answer: ActiveSite) -> None:
        messages = reader.consumer.consume(num_messages=500, timeout=0.01)
        processed = False
        for message in messages:
            if message.error() is not None:
                if message.error().code() != KafkaError._PARTITION_EOF:
                    log(f"consumer: {message.error()}")
                continue
            processed = True
            self.delivered_count += 1
            key = message.key().decode() if message.key() else None
            self.delivered_keys.add(key)
            self.delivered.write({"key": key, "site": answer.active_site, "bootstrap": answer.bootstrap,
                                  "topic": message.topic(), "partition": message.partition(),
                                  "offset": message.offset(), "at": time.time()})
        if processed:
            reader.commit()


class Commits:
    """The group commits of one consumer that the coordinator has not answered yet."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pending = 0

    def sent(self) -> None:
        with self._lock:
            self._pending += 1

    def answered(self, error, partitions) -> None:
        """``on_commit``: runs inside the consumer's poll/consume."""
        with self._lock:
            self._pending = max(0, self._pending - 1)
        if error is not None and error.code() != KafkaError._NO_OFFSET:
            log(f"commit: {error}")

    @property
    def pending(self) -> int:
        with self._lock:
            return self._pending


class GroupReader:
    """A consumer of the group and its commits.

    Every commit is asynchronous: a synchronous one blocks the app's one thread for as long as
    the coordinator does not answer, and when the active site's cluster vanishes that is
    until the app is killed.
    """

    def __init__(self, consumer: Consumer, commits: Commits):
        self.consumer = consumer
        self.commits = commits

    def commit(self) -> None:
        """Commits the position after the records consumed so far (answered in a later consume)."""
        try:
            self.consumer.commit(asynchronous=True)
        except KafkaException as error:  # nothing consumed yet
            if error.args[0].code() != KafkaError._NO_OFFSET:
                log(f"commit: {error}")
            return
        self.commits.sent()

    def commit_position(self, timeout: float) -> bool:
        """Commits the position and waits at most ``timeout`` for every commit to be answered.

        The partitions are paused first, so serving the answers delivers no more records.
        Returns whether every commit was answered.
        """
        try:
            self.consumer.pause(self.consumer.assignment())
        except KafkaException as error:
            log(f"pause: {error}")
        self.commit()
        deadline = time.monotonic() + timeout
        while self.commits.pending > 0 and time.monotonic() < deadline:
            self.consumer.poll(0.05)
        return self.commits.pending == 0


def log(message: str) -> None:
    print(f"orders-app: {message}", file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agent", required=True, help="base URL of the agent beside this application")
    parser.add_argument("--ca", help="CA certificate (PEM) of an agent that serves HTTPS")
    parser.add_argument("--topic", default="orders", help="topic to produce to (default orders)")
    parser.add_argument("--pattern", default=r"^(.*\.)?orders$",
                        help="subscription pattern: the topic and its mirrored copies (default ^(.*\\.)?orders$)")
    parser.add_argument("--group", default="orders-app", help="consumer group (default orders-app)")
    parser.add_argument("--rate", type=float, default=200, help="records per second (default 200)")
    parser.add_argument("--count", type=int, default=0, help="records to produce; 0 = until interrupted")
    parser.add_argument("--wait", type=int, default=30, help="long-poll seconds (default 30)")
    parser.add_argument("--acked", help="JSON-lines file of acknowledged records")
    parser.add_argument("--delivered", help="JSON-lines file of consumed records")
    parser.add_argument("--exit-when-done", action="store_true",
                        help="exit once --count records were acknowledged and as many consumed")
    args = parser.parse_args()
    if args.rate < 0 or args.count < 0:
        parser.error("--rate and --count must not be negative")
    app = OrdersApp(args)
    signal.signal(signal.SIGTERM, lambda *_: app.stopping.set())
    signal.signal(signal.SIGINT, lambda *_: app.stopping.set())
    signal.signal(signal.SIGUSR1, lambda *_: app.finishing.set())
    return app.run()


if __name__ == "__main__":
    sys.exit(main())
