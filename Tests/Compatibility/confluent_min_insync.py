#!/usr/bin/env python3
"""Checks with confluent-kafka (its own bundled librdkafka) that a broker enforces
`min.insync.replicas` as Kafka does, set through IncrementalAlterConfigs (API 44).

Scenarios on a one-replica topic: `min.insync.replicas=2` set incrementally (retention.ms set
before survives, as IncrementalAlterConfigs changes only what it names); an `acks=all` produce
then fails with NOT_ENOUGH_REPLICAS; `acks=1` and `acks=0` produces still succeed; deleting the
config incrementally lets `acks=all` succeed again.

Each check raises on failure (exit status 1, the failed check on stderr). The last line on
stdout is a JSON summary that the Swift test asserts on.

Usage: confluent_min_insync.py --bootstrap HOST:PORT --topic TOPIC
"""
import argparse
import json

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic,
                                   ResourceType)

from suite_support import DEADLINE_SECONDS, check


def alter(admin, topic, name, operation, value=None):
    resource = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=[
        ConfigEntry(name, value, incremental_operation=operation)])
    admin.incremental_alter_configs([resource])[resource].result(DEADLINE_SECONDS)


def dynamic_configs(admin, topic):
    resource = ConfigResource(ResourceType.TOPIC, topic)
    entries = admin.describe_configs([resource])[resource].result(DEADLINE_SECONDS)
    return {name: entry.value for name, entry in entries.items() if not entry.is_default}


def produce(bootstrap, topic, acks, value):
    """The delivery outcome of one record: the error code name, or 'ok'."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": acks, "enable.idempotence": False,
                         "retries": 0, "message.timeout.ms": int(DEADLINE_SECONDS * 1000)})
    outcome = []
    producer.produce(topic, value=value.encode(), partition=0,
                     on_delivery=lambda error, _: outcome.append("ok" if error is None else error.name()))
    remaining = producer.flush(DEADLINE_SECONDS)
    check(remaining == 0 and len(outcome) == 1, f"acks={acks}: no delivery report within {DEADLINE_SECONDS}s")
    return outcome[0]


def read_values(bootstrap, topic):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"{topic}-reader",
                         "enable.auto.commit": False, "enable.partition.eof": True})
    consumer.assign([TopicPartition(topic, 0, 0)])
    values = []
    while True:
        message = consumer.poll(DEADLINE_SECONDS)
        check(message is not None, f"reading {topic} did not reach its end within {DEADLINE_SECONDS}s")
        if message.error():
            check(message.error().code() == KafkaError._PARTITION_EOF, f"reading {topic}: {message.error()}")
            break
        values.append(message.value().decode())
    consumer.close()
    return values


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    arguments = parser.parse_args()
    bootstrap, topic = arguments.bootstrap, arguments.topic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic].result(DEADLINE_SECONDS)
    alter(admin, topic, "retention.ms", AlterConfigOpType.SET, "3600000")
    alter(admin, topic, "min.insync.replicas", AlterConfigOpType.SET, "2")
    fenced_configs = dynamic_configs(admin, topic)

    fenced = {acks: produce(bootstrap, topic, acks, f"fenced-acks-{acks}") for acks in ("all", "1", "0")}

    alter(admin, topic, "min.insync.replicas", AlterConfigOpType.DELETE)
    restored_configs = dynamic_configs(admin, topic)
    restored = produce(bootstrap, topic, "all", "restored-acks-all")

    print(json.dumps({
        "fencedConfigs": fenced_configs, "fenced": fenced,
        "restoredConfigs": restored_configs, "restored": restored,
        "values": read_values(bootstrap, topic),
    }))


if __name__ == "__main__":
    main()
