#!/usr/bin/env python3
"""Drives a Kafka-compatible broker with kafka-python (its own protocol code, no librdkafka).

Scenarios: admin list/create topics; produce with keys and headers and consume them back;
a consumer group commits and a new consumer of the same group reads the committed offsets;
the admin client lists the group's offsets and deletes one of them (OffsetDelete).

Each check raises on failure (exit status 1, the failed check on stderr). The last line on
stdout is a JSON summary that the Swift test asserts on.

Usage: kafka_python_suite.py --bootstrap HOST:PORT [--debug]
"""
import argparse
import json
import logging
import sys
import time
import uuid

import kafka
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, KafkaAdminClient, OffsetSpec
from kafka.structs import OffsetAndMetadata

from suite_support import DEADLINE_SECONDS, CheckFailed, check


def wait_until(predicate, what, timeout=DEADLINE_SECONDS):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise CheckFailed(f"timed out after {timeout}s waiting for {what}")


def unique(name):
    return f"{name}-{uuid.uuid4().hex[:8]}"


class Suite:
    def __init__(self, bootstrap):
        self.bootstrap = bootstrap
        self.summary = {}
        self.admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000)

    def scenario_admin(self):
        topic = unique("kp-admin")
        self.admin.create_topics({topic: {"num_partitions": 3, "replication_factor": 1,
                                          "configs": {"retention.ms": "3600000"}}})
        wait_until(lambda: topic in self.admin.list_topics(), f"{topic} in list_topics")
        described = self.admin.describe_topics([topic])
        partitions = sorted(p["partition_index"] for p in described[0]["partitions"])
        check(partitions == [0, 1, 2], f"describe_topics partitions {partitions}")
        self.summary["admin"] = {"listed": True, "partitions": partitions}

    def scenario_admin_configs_partitions_records(self):
        topic = unique("kp-admin2")
        self.admin.create_topics({topic: {"num_partitions": 1, "replication_factor": 1,
                                          "configs": {"cleanup.policy": "compact"}}})

        def modified():
            described = self.admin.describe_configs([ConfigResource("TOPIC", topic)])
            return {name: entry["value"] for name, entry in described["topic"][topic].items()}

        check(modified() == {"cleanup.policy": "compact"}, f"modified configs after create: {modified()}")
        self.admin.alter_configs([ConfigResource("TOPIC", topic, configs={"retention.ms": "120000", "max.message.bytes": "2000000"})])
        after_alter = modified()
        check(after_alter == {"cleanup.policy": "compact", "retention.ms": "120000", "max.message.bytes": "2000000"},
              f"modified configs after alter_configs: {after_alter}")

        self.admin.create_partitions({topic: 3})
        wait_until(lambda: len(self.admin.describe_topics([topic])[0]["partitions"]) == 3, "3 partitions after create_partitions")

        producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        base = int(time.time() * 1000) - 60_000
        for i in range(10):
            # Keyed: a compacted topic refuses records without a key (INVALID_RECORD), as Kafka does.
            producer.send(topic, key=f"k{i}".encode(), value=f"v{i}".encode(), partition=2, timestamp_ms=base + i * 1000)
        producer.flush(timeout=DEADLINE_SECONDS)
        producer.close()
        tp = TopicPartition(topic, 2)
        before = self.admin.list_partition_offsets({tp: OffsetSpec.EARLIEST})[tp].offset
        latest = self.admin.list_partition_offsets({tp: OffsetSpec.LATEST})[tp].offset
        by_time = self.admin.list_partition_offsets({tp: base + 6500})[tp].offset
        check((before, latest, by_time) == (0, 10, 7), f"earliest/latest/by time {before}/{latest}/{by_time}")
        self.admin.delete_records({tp: 3})
        after = self.admin.list_partition_offsets({tp: OffsetSpec.EARLIEST})[tp].offset
        check(after == 3, f"earliest after delete_records is {after}")

        self.admin.delete_topics([topic])
        wait_until(lambda: topic not in self.admin.list_topics(), f"{topic} gone after delete_topics")
        self.summary["adminConfigs"] = {"afterAlter": after_alter, "partitions": 3,
                                        "offsets": {"earliest": before, "latest": latest, "byTimestamp": by_time,
                                                    "earliestAfterDelete": after}}

    def scenario_group_rebalance(self):
        topic = unique("kp-rebalance")
        group = unique("kp-rebalance")
        self.admin.create_topics({topic: {"num_partitions": 4, "replication_factor": 1}})

        def member():
            return KafkaConsumer(topic, bootstrap_servers=self.bootstrap, group_id=group,
                                 auto_offset_reset="earliest", enable_auto_commit=False,
                                 session_timeout_ms=6000, heartbeat_interval_ms=500)

        def owned(consumer):
            return sorted(tp.partition for tp in consumer.assignment())

        def settle(consumers, predicate, what):
            deadline = time.monotonic() + DEADLINE_SECONDS
            while time.monotonic() < deadline:
                for consumer in consumers:
                    # Short polls abandon kafka-python's join in progress and make it rejoin
                    # again and again; 300 ms lets a join and sync complete inside one poll.
                    consumer.poll(timeout_ms=300)
                if predicate():
                    return
            raise CheckFailed(f"timed out waiting for {what}: {[owned(c) for c in consumers]}")

        first = member()
        settle([first], lambda: owned(first) == [0, 1, 2, 3], "member 1 to own all partitions")
        second = member()
        settle([first, second], lambda: len(owned(first)) == 2 and len(owned(second)) == 2
               and set(owned(first)) | set(owned(second)) == {0, 1, 2, 3}, "a 2/2 split")
        split = [owned(first), owned(second)]
        described = self.admin.describe_groups([group])[group]
        check(described["group_state"] == "Stable", f"group state {described['group_state']}")
        check(len(described["members"]) == 2, f"{len(described['members'])} members described")
        second.close()
        settle([first], lambda: owned(first) == [0, 1, 2, 3], "member 1 to own all partitions again")

        # While the group runs, offsets of a topic it does not subscribe to can be deleted;
        # those of its own topic cannot (GROUP_SUBSCRIBED_TO_TOPIC).
        stale = unique("kp-stale")
        self.admin.create_topics({stale: {"num_partitions": 1, "replication_factor": 1}})
        first.commit({TopicPartition(stale, 0): OffsetAndMetadata(5, "", -1),
                      TopicPartition(topic, 0): OffsetAndMetadata(0, "", -1)})
        deleted = self.admin.delete_group_offsets(group, [TopicPartition(stale, 0), TopicPartition(topic, 0)])
        outcome = {("stale" if tp.topic == stale else "subscribed"): error.__name__ for tp, error in deleted.items()}
        check(outcome == {"stale": "NoError", "subscribed": "GroupSubscribedToTopicError"},
              f"delete_group_offsets on a live group: {outcome}")
        first.close()
        self.summary["groupRebalance"] = {"afterJoin": split, "afterLeave": [0, 1, 2, 3],
                                          "describedMembers": len(described["members"]),
                                          "offsetDeleteWhileLive": outcome}

    def scenario_produce_consume(self):
        topic = unique("kp-data")
        self.admin.create_topics({topic: {"num_partitions": 2, "replication_factor": 1}})
        producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all", linger_ms=5)
        futures = [producer.send(topic, key=f"k{i}".encode(), value=f"v{i}".encode(),
                                 headers=[("h", f"x{i}".encode())], partition=i % 2) for i in range(20)]
        producer.flush(timeout=DEADLINE_SECONDS)
        metadata = [f.get(timeout=DEADLINE_SECONDS) for f in futures]
        delivered = sorted((m.partition, m.offset) for m in metadata)
        check(delivered == sorted((p, o) for p in range(2) for o in range(10)), f"delivered at {delivered}")
        producer.close()

        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, auto_offset_reset="earliest",
                                 enable_auto_commit=False, consumer_timeout_ms=2000)
        consumer.assign([TopicPartition(topic, 0), TopicPartition(topic, 1)])
        read = {}
        deadline = time.monotonic() + DEADLINE_SECONDS
        while len(read) < 20 and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                for r in records:
                    read[(r.partition, r.offset)] = (r.key.decode(), r.value.decode(),
                                                     {k: v.decode() for k, v in r.headers})
        consumer.close()
        check(len(read) == 20, f"read {len(read)} of 20 records")
        for (partition, offset), (key, value, headers) in read.items():
            i = offset * 2 + partition
            check((key, value, headers) == (f"k{i}", f"v{i}", {"h": f"x{i}"}),
                  f"partition {partition} offset {offset} holds {(key, value, headers)}")
        self.summary["produceConsume"] = {"delivered": len(metadata), "readBack": len(read)}

    def scenario_group_commit(self):
        topic = unique("kp-group")
        group = unique("kp-group")
        self.admin.create_topics({topic: {"num_partitions": 2, "replication_factor": 1}})
        producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        for i in range(10):
            producer.send(topic, value=f"v{i}".encode(), partition=i % 2)
        producer.flush(timeout=DEADLINE_SECONDS)
        producer.close()

        consumer = KafkaConsumer(topic, bootstrap_servers=self.bootstrap, group_id=group,
                                 auto_offset_reset="earliest", enable_auto_commit=False,
                                 session_timeout_ms=6000, heartbeat_interval_ms=500)
        consumed = []
        deadline = time.monotonic() + DEADLINE_SECONDS
        while len(consumed) < 10 and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                consumed.extend(records)
        check(len(consumed) == 10, f"group member consumed {len(consumed)} of 10 records")
        assignment = sorted(tp.partition for tp in consumer.assignment())
        check(assignment == [0, 1], f"group member assigned {assignment}")
        consumer.commit()  # the positions: 5 on each partition
        consumer.close()

        fresh = KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=group, enable_auto_commit=False)
        committed = {p: fresh.committed(TopicPartition(topic, p)) for p in range(2)}
        fresh.close()
        check(committed == {0: 5, 1: 5}, f"committed offsets seen by a new consumer: {committed}")

        # The admin reads, moves and deletes the committed offsets of the (now empty) group.
        listed = self.admin.list_group_offsets({group: None})[group]
        listed_offsets = {tp.partition: om.offset for tp, om in listed.items() if tp.topic == topic}
        check(listed_offsets == {0: 5, 1: 5}, f"admin list_group_offsets: {listed_offsets}")
        self.admin.alter_group_offsets(group, {TopicPartition(topic, 0): OffsetAndMetadata(2, "", -1)})
        deleted = self.admin.delete_group_offsets(group, [TopicPartition(topic, 1)])
        errors = {tp.partition: error.__name__ for tp, error in deleted.items()}
        check(errors == {1: "NoError"}, f"delete_group_offsets errors {errors}")
        after = self.admin.list_group_offsets({group: None})[group]
        after_offsets = {tp.partition: om.offset for tp, om in after.items() if tp.topic == topic}
        check(after_offsets == {0: 2}, f"offsets after alter and delete: {after_offsets}")

        groups = [g["group_id"] for g in self.admin.list_groups()]
        check(group in groups, f"list_groups misses {group}: {groups}")
        self.summary["groupCommit"] = {
            "consumed": len(consumed), "assignment": assignment,
            "committed": {str(p): o for p, o in committed.items()},
            "afterAlterAndDelete": {str(p): o for p, o in after_offsets.items()},
        }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--debug", action="store_true", help="kafka-python debug logs on stderr")
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if args.debug else logging.WARNING)
    suite = Suite(args.bootstrap)
    status = 0
    scenarios = (suite.scenario_admin, suite.scenario_admin_configs_partitions_records, suite.scenario_produce_consume,
                 suite.scenario_group_commit, suite.scenario_group_rebalance)
    for scenario in scenarios:
        name = scenario.__name__.removeprefix("scenario_")
        started = time.monotonic()
        try:
            scenario()
        except Exception as error:  # noqa: BLE001 - every failure is reported, then the next runs
            print(f"FAILED {name}: {type(error).__name__}: {error}", file=sys.stderr)
            suite.summary.setdefault("failures", {})[name] = f"{type(error).__name__}: {error}"
            status = 1
        print(f"{name}: {time.monotonic() - started:.1f}s", file=sys.stderr)
    suite.admin.close()
    suite.summary["client"] = {"kafka_python": kafka.__version__}
    print(json.dumps(suite.summary, sort_keys=True))
    sys.stdout.flush()
    return status


if __name__ == "__main__":
    sys.exit(main())
