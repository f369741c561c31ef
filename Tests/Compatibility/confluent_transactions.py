#!/usr/bin/env python3
"""Drives a broker's transaction support with confluent-kafka (its own bundled librdkafka).

Scenarios: a transactional producer commits and aborts transactions interleaved with plain
records on two partitions (partition 0 ends in an abort marker); consumer-group offsets sent
with a committed and with an aborted transaction; a second producer with the same
transactional id fences the first. Reads everything back read_committed and read_uncommitted.

Each check raises on failure (exit status 1, the failed check on stderr). The last line on
stdout is a JSON summary that the Swift test asserts on.

Usage: confluent_transactions.py --bootstrap HOST:PORT --topic TOPIC
"""
import argparse
import json
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from suite_support import DEADLINE_SECONDS, CheckFailed, check

GROUP = "txn-compat-group"


def transactional_producer(bootstrap, transactional_id):
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id, "linger.ms": 1})
    producer.init_transactions(DEADLINE_SECONDS)
    return producer


def send(producer, topic, partition, values):
    for value in values:
        producer.produce(topic, value=value.encode(), partition=partition)


def read(bootstrap, topic, isolation):
    """Every value per partition, read from the beginning until both partitions report EOF."""
    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": f"reader-{isolation}", "isolation.level": isolation,
        "enable.partition.eof": True, "enable.auto.commit": False,
    })
    consumer.assign([TopicPartition(topic, p, 0) for p in (0, 1)])
    values = {0: [], 1: []}
    at_end = set()
    deadline = time.monotonic() + DEADLINE_SECONDS
    while len(at_end) < 2 and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is None:
            continue
        if message.error():
            if message.error().code() == KafkaError._PARTITION_EOF:
                at_end.add(message.partition())
                continue
            raise CheckFailed(f"{isolation} read failed: {message.error()}")
        values[message.partition()].append(message.value().decode())
        at_end.discard(message.partition())
    positions = {tp.partition: tp.offset for tp in consumer.position([TopicPartition(topic, p) for p in (0, 1)])}
    consumer.close()
    check(len(at_end) == 2, f"{isolation} consumer did not reach the end of {topic}")
    return values, positions


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    arguments = parser.parse_args()
    bootstrap, topic = arguments.bootstrap, arguments.topic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])[topic].result(DEADLINE_SECONDS)

    producer = transactional_producer(bootstrap, f"{topic}-producer")
    plain = Producer({"bootstrap.servers": bootstrap, "linger.ms": 1})
    group_consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP, "enable.auto.commit": False})

    producer.begin_transaction()
    for p in (0, 1):
        send(producer, topic, p, [f"c1-{p}-{i}" for i in range(3)])
    producer.commit_transaction(DEADLINE_SECONDS)

    producer.begin_transaction()
    for p in (0, 1):
        send(producer, topic, p, [f"a1-{p}-{i}" for i in range(2)])
    producer.send_offsets_to_transaction(
        [TopicPartition(topic, 0, 99)], group_consumer.consumer_group_metadata(), DEADLINE_SECONDS)
    # Written before the abort: librdkafka purges records still queued when a transaction is
    # aborted, and this check wants the aborted records in the log (read_uncommitted sees them).
    producer.flush(DEADLINE_SECONDS)
    producer.abort_transaction(DEADLINE_SECONDS)

    for p in (0, 1):
        plain.produce(topic, value=f"plain-{p}".encode(), partition=p)
    check(plain.flush(DEADLINE_SECONDS) == 0, "plain records were not delivered")

    producer.begin_transaction()
    for p in (0, 1):
        send(producer, topic, p, [f"c2-{p}-{i}" for i in range(2)])
    producer.send_offsets_to_transaction(
        [TopicPartition(topic, 0, 3), TopicPartition(topic, 1, 4)], group_consumer.consumer_group_metadata(), DEADLINE_SECONDS)
    producer.commit_transaction(DEADLINE_SECONDS)

    producer.begin_transaction()
    send(producer, topic, 0, ["a2-0-0"])
    producer.flush(DEADLINE_SECONDS)
    producer.abort_transaction(DEADLINE_SECONDS)

    committed_offsets = {tp.partition: tp.offset for tp in group_consumer.committed(
        [TopicPartition(topic, 0), TopicPartition(topic, 1)], DEADLINE_SECONDS)}
    group_consumer.close()

    # A second instance with the same transactional id fences the first.
    producer.begin_transaction()
    send(producer, topic, 1, ["fenced"])
    producer.flush(DEADLINE_SECONDS)
    successor = transactional_producer(bootstrap, f"{topic}-producer")
    fenced = False
    try:
        producer.commit_transaction(DEADLINE_SECONDS)
    except KafkaException as error:
        fenced = error.args[0].fatal() or error.args[0].txn_requires_abort()
    successor.begin_transaction()
    send(successor, topic, 1, ["successor"])
    successor.commit_transaction(DEADLINE_SECONDS)

    committed, committed_positions = read(bootstrap, topic, "read_committed")
    uncommitted, uncommitted_positions = read(bootstrap, topic, "read_uncommitted")
    print(json.dumps({
        "committed": {str(p): v for p, v in committed.items()},
        "uncommitted": {str(p): v for p, v in uncommitted.items()},
        "committedPositions": {str(p): v for p, v in committed_positions.items()},
        "uncommittedPositions": {str(p): v for p, v in uncommitted_positions.items()},
        "groupOffsets": {str(p): v for p, v in committed_offsets.items()},
        "fenced": fenced,
    }))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (CheckFailed, KafkaException) as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
