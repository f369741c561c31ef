"""A producer and a committing consumer group that follow a Switchback sidecar.

Used by the data-plane failover tests (Tests/AgentServerTests/DataPlaneFailoverTests.swift): it
behaves as the sidecar contract asks of an application. It long-polls
`GET /v1/active?wait=…&after=EPOCH&state=STATE`; on `serving` with a new epoch or bootstrap it
closes its clients and creates new ones on `bootstrapServers`; on any other state it stops
producing and consuming and keeps polling.

The producer sends the numbers 0, 1, 2, … (key and value) at `--rate` per second with acks=all
and counts a number as acknowledged only on a successful delivery report. The consumer group
commits synchronously after each record. When `--stop-file` appears the producer stops; the
consumer goes on until it has seen nothing new for `--quiet` seconds. The result (every acked
number, every consumed number in order, when serving was first seen per epoch) is written to
`--out` as JSON; `--progress` is rewritten every 200 ms with the counts so far.
"""

import argparse
import json
import os
import threading
import time
import urllib.request

from confluent_kafka import Consumer, KafkaException, Producer


class Sidecar:
    """The latest sidecar answer, shared by the producer and consumer threads."""

    def __init__(self, url):
        self.url = url
        self.answer = None
        self.condition = threading.Condition()
        self.serving_seen = {}
        self.stopped = False

    def follow(self):
        while not self.stopped:
            query = "wait=2s"
            if self.answer is not None:
                query += "&after=%d&state=%s" % (self.answer["epoch"], self.answer["state"])
            try:
                with urllib.request.urlopen("%s/v1/active?%s" % (self.url, query), timeout=5) as response:
                    answer = json.loads(response.read())
            except Exception:
                time.sleep(0.05)
                continue
            with self.condition:
                if answer["state"] == "serving" and str(answer["epoch"]) not in self.serving_seen:
                    self.serving_seen[str(answer["epoch"])] = time.time()
                self.answer = answer
                self.condition.notify_all()

    def serving(self, timeout=0.2):
        """The current answer if it says serving, else None after waiting up to `timeout`."""
        with self.condition:
            if self.answer is None or self.answer["state"] != "serving":
                self.condition.wait(timeout)
            answer = self.answer
            return answer if answer is not None and answer["state"] == "serving" else None


def identity(answer):
    return (answer["epoch"], tuple(answer["bootstrapServers"]))


def produce(sidecar, args, acked, stop):
    producer, current, number = None, None, 0
    interval = 1.0 / args.rate

    def delivered(error, message):
        if error is None:
            acked.append(int(message.value()))

    while not stop.is_set():
        answer = sidecar.serving()
        if answer is None or (current is not None and identity(answer) != current):
            if producer is not None:
                producer.flush(5)
                producer, current = None, None
            continue
        if producer is None:
            current = identity(answer)
            producer = Producer({
                "bootstrap.servers": ",".join(answer["bootstrapServers"]), "acks": "all",
                "message.timeout.ms": 5000, "linger.ms": 5,
            })
        producer.produce(args.topic, key=str(number), value=str(number), on_delivery=delivered)
        number += 1
        producer.poll(0)
        time.sleep(interval)
    if producer is not None:
        producer.flush(10)


def consume(sidecar, args, consumed, stop, errors):
    consumer, current = None, None
    last_new = time.time()
    while True:
        if stop.is_set() and time.time() - last_new > args.quiet:
            break
        answer = sidecar.serving()
        if answer is None or (current is not None and identity(answer) != current):
            if consumer is not None:
                consumer.close()
                consumer, current = None, None
            continue
        if consumer is None:
            current = identity(answer)
            consumer = Consumer({
                "bootstrap.servers": ",".join(answer["bootstrapServers"]), "group.id": args.group,
                "enable.auto.commit": False, "auto.offset.reset": "earliest",
                "topic.metadata.refresh.interval.ms": 1000, "session.timeout.ms": 6000,
            })
            consumer.subscribe([args.subscribe])
        message = consumer.poll(0.2)
        if message is None:
            continue
        if message.error():
            errors.append(str(message.error()))
            continue
        consumed.append({"value": int(message.value()), "epoch": current[0], "topic": message.topic()})
        last_new = time.time()
        try:
            consumer.commit(message=message, asynchronous=False)
        except KafkaException as error:
            errors.append("commit: %s" % error)
    if consumer is not None:
        consumer.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sidecar", required=True)
    parser.add_argument("--topic", default="orders")
    parser.add_argument("--subscribe", default="^(dc-[a-z]+\\.)?orders$")
    parser.add_argument("--group", default="orders-app")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--quiet", type=float, default=5.0)
    parser.add_argument("--stop-file", required=True)
    parser.add_argument("--progress", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    sidecar = Sidecar(args.sidecar)
    acked, consumed, errors = [], [], []
    stop = threading.Event()
    threading.Thread(target=sidecar.follow, daemon=True).start()
    producer = threading.Thread(target=produce, args=(sidecar, args, acked, stop))
    consumer = threading.Thread(target=consume, args=(sidecar, args, consumed, stop, errors))
    producer.start()
    consumer.start()
    while consumer.is_alive():
        if os.path.exists(args.stop_file):
            stop.set()
        with open(args.progress + ".tmp", "w") as file:
            json.dump({"acked": len(acked), "consumed": len(consumed)}, file)
        os.replace(args.progress + ".tmp", args.progress)
        consumer.join(0.2)
    producer.join()
    sidecar.stopped = True
    with open(args.out, "w") as file:
        json.dump({"acked": acked, "consumed": consumed, "servingSeen": sidecar.serving_seen, "errors": errors[:50]}, file)
    print(json.dumps({"acked": len(acked), "consumed": len(consumed), "errors": len(errors)}))


if __name__ == "__main__":
    main()
