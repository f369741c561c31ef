#!/usr/bin/env python3
"""Compressed batches between Python Kafka clients and a Kafka-compatible broker.

Phases (the Swift test compacts the topic between produce and consume):
  produce  confluent-kafka writes keyed records with compression.type CODEC to a compacted
           topic, then reads every record back and checks it is what it wrote.
  consume  CLIENT (confluent-kafka or kafka-python) reads the topic from the start to its end.
  keyless  confluent-kafka sends a keyed, a keyless and a keyed record in one CODEC batch and
           prints {"outcomes": [[errorCode or null, offset], ...]} in that order.

Each check raises on failure (exit status 1, the failed check on stderr). The last line on
stdout is a JSON summary: {"records": [[offset, key, value], ...]} in offset order.

Usage: compression_suite.py --bootstrap HOST:PORT --topic T --phase produce --codec CODEC --count N
       compression_suite.py --bootstrap HOST:PORT --topic T --phase consume --client CLIENT --last OFFSET
       compression_suite.py --bootstrap HOST:PORT --topic T --phase keyless --codec CODEC
"""
import argparse
import json
import sys
import time

from suite_support import DEADLINE_SECONDS, CheckFailed, check


def read_confluent(bootstrap, topic, last):
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "compression-suite",
        "enable.auto.commit": False,
        "enable.partition.eof": False,
    })
    consumer.assign([TopicPartition(topic, 0, 0)])
    records = []
    deadline = time.monotonic() + DEADLINE_SECONDS
    try:
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            check(message.error() is None, f"confluent-kafka consumer error: {message.error()}")
            key = message.key().decode() if message.key() is not None else None
            value = message.value().decode() if message.value() is not None else None
            records.append([message.offset(), key, value])
            if message.offset() >= last:
                return records
    finally:
        consumer.close()
    raise CheckFailed(f"confluent-kafka read {len(records)} records but not offset {last} within {DEADLINE_SECONDS}s")


def read_kafka_python(bootstrap, topic, last):
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=1000)
    partition = TopicPartition(topic, 0)
    consumer.assign([partition])
    consumer.seek(partition, 0)
    records = []
    deadline = time.monotonic() + DEADLINE_SECONDS
    try:
        while time.monotonic() < deadline:
            for message in consumer:
                key = message.key.decode() if message.key is not None else None
                value = message.value.decode() if message.value is not None else None
                records.append([message.offset, key, value])
                if message.offset >= last:
                    return records
    finally:
        consumer.close()
    raise CheckFailed(f"kafka-python read {len(records)} records but not offset {last} within {DEADLINE_SECONDS}s")


def produce(bootstrap, topic, codec, count):
    from confluent_kafka import Producer

    producer = Producer({
        "bootstrap.servers": bootstrap,
        "compression.type": codec,
        "linger.ms": 20,
        "enable.idempotence": True,
    })
    delivered = []
    failures = []

    def report(error, message):
        if error is not None:
            failures.append(str(error))
        else:
            delivered.append([message.offset(), message.key().decode(), message.value().decode()])

    for index in range(count):
        # Hot keys are overwritten, unique ones stay: every closed batch is filtered.
        key = f"hot{index % 4}" if index % 3 == 0 else f"unique{index}"
        value = f"value {index} of {codec}, " + "compressible text " * 8
        producer.produce(topic, key=key, value=value, partition=0, on_delivery=report)
        if index % 10 == 9:
            producer.flush(DEADLINE_SECONDS)
    remaining = producer.flush(DEADLINE_SECONDS)
    check(remaining == 0 and not failures, f"{remaining} records undelivered, failures: {failures}")
    delivered.sort()
    read = read_confluent(bootstrap, topic, delivered[-1][0])
    check(read == delivered, f"read back {read[:5]}... differs from written {delivered[:5]}...")
    return delivered


def produce_keyless(bootstrap, topic, codec):
    """Sends a keyed, a keyless and a keyed record in one compressed batch; returns the error
    code (or None) and offset of each delivery, in the order sent."""
    from confluent_kafka import Producer

    producer = Producer({
        "bootstrap.servers": bootstrap,
        "compression.type": codec,
        "linger.ms": 200,
        "enable.idempotence": False,
        "retries": 0,
    })
    outcomes = {}

    def report(error, message):
        key = message.key().decode() if message.key() is not None else None
        outcomes[key] = [error.code() if error is not None else None, message.offset()]

    # Connected and with the partition's leader known before the first record, so the three
    # records wait for linger.ms together instead of racing the connection set-up.
    producer.list_topics(topic, timeout=DEADLINE_SECONDS)
    value = "compressible text " * 10
    for key in ["before", None, "after"]:
        producer.produce(topic, key=key, value=value, partition=0, on_delivery=report)
    remaining = producer.flush(DEADLINE_SECONDS)
    check(remaining == 0, f"{remaining} records never got a delivery report")
    return [outcomes.get("before"), outcomes.get(None), outcomes.get("after")]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--phase", choices=["produce", "consume", "keyless"], required=True)
    parser.add_argument("--codec", choices=["gzip", "snappy", "lz4", "zstd"])
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--client", choices=["confluent-kafka", "kafka-python"])
    parser.add_argument("--last", type=int)
    arguments = parser.parse_args()
    try:
        if arguments.phase == "keyless":
            print(json.dumps({"outcomes": produce_keyless(arguments.bootstrap, arguments.topic, arguments.codec)}))
            return 0
        if arguments.phase == "produce":
            records = produce(arguments.bootstrap, arguments.topic, arguments.codec, arguments.count)
        elif arguments.client == "kafka-python":
            records = read_kafka_python(arguments.bootstrap, arguments.topic, arguments.last)
        else:
            records = read_confluent(arguments.bootstrap, arguments.topic, arguments.last)
    except CheckFailed as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    print(json.dumps({"records": records}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
