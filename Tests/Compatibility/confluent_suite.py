#!/usr/bin/env python3
"""Drives a Kafka-compatible broker with confluent-kafka (its own bundled librdkafka).

Scenarios: producer with delivery reports; a two-member subscribe-based consumer group that
rebalances when the second member joins and again when one leaves; every admin call LocalKafka
serves (topics, partitions, configs, records, groups, group offsets, list offsets).

Each check raises on failure (exit status 1, the failed check on stderr). The last line on
stdout is a JSON summary that the Swift test asserts on.

Usage: confluent_suite.py --bootstrap HOST:PORT [--debug]
"""
import argparse
import json
import subprocess
import sys
import time
import uuid

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition, ConsumerGroupTopicPartitions
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewPartitions,
    NewTopic,
    OffsetSpec,
)

from suite_support import DEADLINE_SECONDS, CheckFailed, check


def wait_until(predicate, what, timeout=DEADLINE_SECONDS, tick=None):
    """Calls tick() (if given) and polls predicate() until it holds or the deadline passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if tick is not None:
            tick()
        if predicate():
            return
        if tick is None:
            time.sleep(0.05)
    raise CheckFailed(f"timed out after {timeout}s waiting for {what}")


def unique(name):
    return f"{name}-{uuid.uuid4().hex[:8]}"


def result_of(futures, what):
    """Waits for a dict of futures; returns {key: result}; raises naming the failed key."""
    out = {}
    for key, future in futures.items():
        try:
            out[key] = future.result(timeout=DEADLINE_SECONDS)
        except Exception as error:  # noqa: BLE001 - report which call failed and why
            raise CheckFailed(f"{what} failed for {key}: {error}") from error
    return out


class Suite:
    def __init__(self, bootstrap, debug):
        self.bootstrap = bootstrap
        self.debug = debug
        self.summary = {}
        self.admin = AdminClient(self.conf())

    def conf(self, **extra):
        conf = {"bootstrap.servers": self.bootstrap, "socket.timeout.ms": 30000}
        if self.debug:
            conf["debug"] = "broker,protocol,cgrp,admin"
        conf.update(extra)
        return conf

    # Producer ---------------------------------------------------------------------------------

    def produce(self, topic, records, partition=None, timestamp=None):
        """Produces (key, value, headers) tuples; returns delivery reports as (partition, offset)."""
        producer = Producer(self.conf(**{"enable.idempotence": True, "linger.ms": 5}))
        reports = []
        errors = []

        def on_delivery(error, message):
            if error is not None:
                errors.append(str(error))
            else:
                reports.append((message.partition(), message.offset(), message.key(), message.value()))

        for key, value, headers in records:
            kwargs = {"key": key, "value": value, "headers": headers, "on_delivery": on_delivery}
            if partition is not None:
                kwargs["partition"] = partition
            if timestamp is not None:
                kwargs["timestamp"] = timestamp
            producer.produce(topic, **kwargs)
        remaining = producer.flush(DEADLINE_SECONDS)
        check(remaining == 0, f"{remaining} records still undelivered after flush")
        check(not errors, f"delivery failed: {errors}")
        check(len(reports) == len(records), f"{len(reports)} delivery reports for {len(records)} records")
        return reports

    def scenario_producer(self):
        topic = unique("cp-produce")
        result_of(self.admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)]), "create_topics")
        records = [(f"k{i}".encode(), f"v{i}".encode(), [("h", f"x{i}".encode())]) for i in range(20)]
        reports = self.produce(topic, records, partition=0)
        offsets = sorted(offset for _, offset, _, _ in reports)
        check(offsets == list(range(20)), f"delivery report offsets {offsets}, expected 0..19")

        consumer = Consumer(self.conf(**{"group.id": unique("cp-reader"), "auto.offset.reset": "earliest",
                                         "enable.auto.commit": False}))
        consumer.assign([TopicPartition(topic, 0, 0)])
        read = []
        deadline = time.monotonic() + DEADLINE_SECONDS
        while len(read) < 20 and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            check(message.error() is None, f"consume error: {message.error()}")
            read.append({"key": message.key().decode(), "value": message.value().decode(),
                         "headers": {k: v.decode() for k, v in (message.headers() or [])},
                         "offset": message.offset()})
        consumer.close()
        check(len(read) == 20, f"read {len(read)} of 20 records back")
        for i, record in enumerate(read):
            expected = {"key": f"k{i}", "value": f"v{i}", "headers": {"h": f"x{i}"}, "offset": i}
            check(record == expected, f"record {i} read back as {record}, expected {expected}")
        self.summary["producer"] = {"delivered": len(reports), "offsets": offsets,
                                    "readBack": len(read), "first": read[0], "last": read[-1]}

    def scenario_log_append_time(self):
        topic = unique("cp-append-time")
        result_of(self.admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1,
                                                     config={"message.timestamp.type": "LogAppendTime"})]), "create_topics")
        before = int(time.time() * 1000)
        self.produce(topic, [(b"k", b"stamped-by-broker", None)], partition=0, timestamp=1_000)
        after = int(time.time() * 1000)
        consumer = Consumer(self.conf(**{"group.id": unique("cp-append-time"), "enable.auto.commit": False}))
        consumer.assign([TopicPartition(topic, 0, 0)])
        message = None
        deadline = time.monotonic() + DEADLINE_SECONDS
        while message is None and time.monotonic() < deadline:
            message = consumer.poll(0.2)
        consumer.close()
        check(message is not None and message.error() is None, f"no record read back: {message and message.error()}")
        kind, stamp = message.timestamp()
        from confluent_kafka import TIMESTAMP_LOG_APPEND_TIME
        check(kind == TIMESTAMP_LOG_APPEND_TIME, f"timestamp type {kind}, expected LogAppendTime ({TIMESTAMP_LOG_APPEND_TIME})")
        check(before - 1000 <= stamp <= after + 1000, f"timestamp {stamp} is not the broker's append time ({before}..{after})")
        self.summary["logAppendTime"] = {"type": "LogAppendTime", "producerTimestampReplaced": stamp != 1_000}

    # Consumer group ---------------------------------------------------------------------------

    def scenario_group(self):
        topic = unique("cp-group")
        group = unique("cp-group")
        result_of(self.admin.create_topics([NewTopic(topic, num_partitions=4, replication_factor=1)]), "create_topics")
        records = [(f"k{i}".encode(), f"v{i}".encode(), None) for i in range(40)]
        for p in range(4):
            self.produce(topic, records[p * 10:(p + 1) * 10], partition=p)

        def member(name):
            consumer = Consumer(self.conf(**{
                "group.id": group, "client.id": name, "auto.offset.reset": "earliest",
                "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
                "partition.assignment.strategy": "range", "enable.auto.commit": False,
            }))
            assigned = {"partitions": set(), "events": 0}

            def on_assign(c, partitions):
                assigned["partitions"] = {p.partition for p in partitions}
                assigned["events"] += 1

            def on_revoke(c, partitions):
                assigned["partitions"] = set()

            consumer.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
            return consumer, assigned

        seen = {}  # (partition, offset) -> value
        deliveries = []  # every record handed to a member, re-reads included

        def poll(consumer):
            message = consumer.poll(0.1)
            if message is None:
                return
            check(message.error() is None, f"consume error: {message.error()}")
            seen[(message.partition(), message.offset())] = message.value().decode()
            deliveries.append((message.partition(), message.offset()))

        first, first_assigned = member("member-1")
        wait_until(lambda: first_assigned["partitions"] == {0, 1, 2, 3}, "member-1 to own all 4 partitions",
                   tick=lambda: poll(first))
        alone = sorted(first_assigned["partitions"])

        second, second_assigned = member("member-2")

        def both():
            poll(first)
            poll(second)

        def split():
            a, b = first_assigned["partitions"], second_assigned["partitions"]
            return len(a) == 2 and len(b) == 2 and a | b == {0, 1, 2, 3}

        wait_until(split, "the 4 partitions to be split 2/2 after member-2 joined", tick=both)
        split_first = sorted(first_assigned["partitions"])
        split_second = sorted(second_assigned["partitions"])

        # Each member now reads only its own partitions; all 40 records arrive in total.
        wait_until(lambda: len(seen) == 40, "all 40 records to be consumed by the group", tick=both)
        for (partition, offset), value in seen.items():
            check(value == f"v{partition * 10 + offset}", f"partition {partition} offset {offset} holds {value}")
        for consumer, assigned in ((first, first_assigned), (second, second_assigned)):
            offsets = [TopicPartition(topic, p, 10) for p in sorted(assigned["partitions"])]
            consumer.commit(offsets=offsets, asynchronous=False)
        # (Before the commit, records member-1 read from partitions that moved are read again by
        # member-2: at-least-once, as with Kafka.)
        committed_at = len(deliveries)

        # Member-1 joined first and leads the group: its leaving makes member-2 the leader.
        first.close()
        wait_until(lambda: second_assigned["partitions"] == {0, 1, 2, 3},
                   "member-2 to own all 4 partitions after the leader left", tick=lambda: poll(second))
        after_leave = sorted(second_assigned["partitions"])
        committed = second.committed([TopicPartition(topic, p) for p in range(4)], timeout=DEADLINE_SECONDS)
        committed_offsets = {tp.partition: tp.offset for tp in committed}
        check(committed_offsets == {0: 10, 1: 10, 2: 10, 3: 10}, f"committed offsets {committed_offsets}")
        # Member-2 resumes member-1's partitions at the committed offsets: one new record per
        # partition arrives, and nothing before it is read again.
        for p in range(4):
            self.produce(topic, [(b"after", f"v{p * 10 + 10}".encode(), None)], partition=p)
        wait_until(lambda: len(seen) == 44, "the 4 records produced after the rebalance", tick=lambda: poll(second))
        after_commit = sorted(deliveries[committed_at:])
        check(after_commit == [(p, 10) for p in range(4)], f"delivered after the commit: {after_commit}")
        second.close()
        self.summary["group"] = {
            "alone": alone, "afterJoin": {"member-1": split_first, "member-2": split_second},
            "afterLeave": after_leave, "consumed": len(seen), "afterCommit": [list(d) for d in after_commit],
            "committed": {str(p): o for p, o in sorted(committed_offsets.items())},
        }

    def scenario_cooperative_group(self):
        """Incremental (cooperative-sticky) rebalancing: members gain and lose partitions one
        by one instead of giving all of them back at every rebalance."""
        topic = unique("cp-coop")
        group = unique("cp-coop")
        result_of(self.admin.create_topics([NewTopic(topic, num_partitions=4, replication_factor=1)]), "create_topics")

        def member(name):
            consumer = Consumer(self.conf(**{
                "group.id": group, "client.id": name, "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
                "partition.assignment.strategy": "cooperative-sticky", "enable.auto.commit": False,
            }))
            owned = set()
            consumer.subscribe([topic], on_assign=lambda c, ps: owned.update(p.partition for p in ps),
                               on_revoke=lambda c, ps: owned.difference_update(p.partition for p in ps))
            return consumer, owned

        def poll(*consumers):
            for consumer in consumers:
                message = consumer.poll(0.05)
                check(message is None or message.error() is None, f"consume error: {message and message.error()}")

        first, first_owned = member("coop-1")
        wait_until(lambda: first_owned == {0, 1, 2, 3}, "coop-1 to own all partitions", tick=lambda: poll(first))
        second, second_owned = member("coop-2")
        wait_until(lambda: len(first_owned) == 2 and len(second_owned) == 2 and first_owned | second_owned == {0, 1, 2, 3},
                   "a 2/2 cooperative split", tick=lambda: poll(first, second))
        kept = sorted(first_owned)
        second.close()
        wait_until(lambda: first_owned == {0, 1, 2, 3}, "coop-1 to own all partitions again", tick=lambda: poll(first))
        first.close()
        self.summary["cooperativeGroup"] = {"afterJoin": kept, "afterLeave": [0, 1, 2, 3]}

    def scenario_static_membership(self):
        """A static member (group.instance.id) that restarts gets its partitions back without
        a rebalance: the other member is not disturbed."""
        topic = unique("cp-static")
        group = unique("cp-static")
        result_of(self.admin.create_topics([NewTopic(topic, num_partitions=4, replication_factor=1)]), "create_topics")
        events = []

        def member(instance):
            consumer = Consumer(self.conf(**{
                "group.id": group, "group.instance.id": instance, "session.timeout.ms": 10000,
                "heartbeat.interval.ms": 500, "partition.assignment.strategy": "range", "enable.auto.commit": False,
            }))
            owned = set()

            def on_assign(c, ps):
                owned.clear()
                owned.update(p.partition for p in ps)
                events.append((instance, "assign", sorted(owned)))

            def on_revoke(c, ps):
                events.append((instance, "revoke", sorted(p.partition for p in ps)))
                owned.clear()

            consumer.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
            return consumer, owned

        def poll(*consumers):
            for consumer in consumers:
                consumer.poll(0.05)

        first, first_owned = member("static-1")
        wait_until(lambda: len(first_owned) == 4, "static-1 to own all partitions", tick=lambda: poll(first))
        second, second_owned = member("static-2")
        wait_until(lambda: len(first_owned) == 2 and len(second_owned) == 2, "a 2/2 split", tick=lambda: poll(first, second))
        kept, given = sorted(first_owned), sorted(second_owned)
        before = len(events)
        second.close()  # a static member does not leave the group when it closes
        restarted, restarted_owned = member("static-2")
        wait_until(lambda: len(restarted_owned) == 2, "the restarted static-2 to be assigned", tick=lambda: poll(first, restarted))
        got = sorted(restarted_owned)
        check(got == given, f"restarted static-2 got {got}, had {given}")
        disturbed = [event for event in events[before:] if event[0] == "static-1"]
        check(not disturbed, f"static-1 was rebalanced by static-2's restart: {disturbed}")
        first.close()
        restarted.close()
        self.summary["staticMembership"] = {"kept": kept, "restartedGot": got, "otherDisturbed": False}

    def scenario_member_crash(self):
        """A member killed without leaving is dropped after its session timeout, and the
        survivor gets its partitions."""
        topic = unique("cp-crash")
        group = unique("cp-crash")
        result_of(self.admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)]), "create_topics")
        conf = self.conf(**{"group.id": group, "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
                            "partition.assignment.strategy": "range", "enable.auto.commit": False})
        survivor = Consumer(conf)
        owned = set()

        def on_assign(c, ps):
            owned.clear()
            owned.update(p.partition for p in ps)

        survivor.subscribe([topic], on_assign=on_assign, on_revoke=lambda c, ps: owned.clear())
        poll = lambda: survivor.poll(0.05)  # noqa: E731
        wait_until(lambda: owned == {0, 1}, "the survivor to own both partitions", tick=poll)
        # The member polls until killed, or until this script is gone (a suite killed at its
        # deadline must not leave it running).
        child_code = (
            "import json, os, sys\n"
            "from confluent_kafka import Consumer\n"
            "parent = os.getppid()\n"
            "c = Consumer(json.loads(sys.argv[1]))\n"
            "c.subscribe([sys.argv[2]])\n"
            "while os.getppid() == parent:\n"
            "    c.poll(0.1)\n"
        )
        child = subprocess.Popen([sys.executable, "-c", child_code, json.dumps(conf), topic], stdout=subprocess.DEVNULL)
        try:
            wait_until(lambda: owned == {0} or owned == {1}, "the survivor to give one partition to the new member", tick=poll)
            split = sorted(owned)
        finally:
            child.kill()
            child.wait()
        crashed_at = time.monotonic()
        wait_until(lambda: owned == {0, 1}, "the survivor to get the crashed member's partition", tick=poll)
        took = time.monotonic() - crashed_at
        survivor.close()
        # The session timeout (6 s) has to pass first; far later would mean the broker forgot it.
        check(took >= 3.0, f"the crashed member was dropped after {took:.1f}s, before its 6 s session could expire")
        self.summary["memberCrash"] = {"split": split, "afterCrash": [0, 1], "droppedAfterSeconds": round(took)}

    # Admin ------------------------------------------------------------------------------------

    def describe_topic_configs(self, topic):
        resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
        entries = result_of(self.admin.describe_configs([resource]), "describe_configs")[resource]
        return {name: entry.value for name, entry in entries.items()}

    def scenario_admin(self):
        admin = self.admin
        out = {}
        topic = unique("cp-admin")
        doomed = unique("cp-doomed")
        created = result_of(admin.create_topics([
            NewTopic(topic, num_partitions=2, replication_factor=1, config={"retention.ms": "3600000"}),
            NewTopic(doomed, num_partitions=1, replication_factor=1),
        ], operation_timeout=10), "create_topics")
        check(set(created) == {topic, doomed}, f"created {sorted(created)}")

        # Creating an existing topic fails with TOPIC_ALREADY_EXISTS.
        try:
            result_of(admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)]), "create_topics")
            raise CheckFailed("creating an existing topic succeeded")
        except CheckFailed as error:
            check("TOPIC_ALREADY_EXISTS" in str(error) or "already exists" in str(error),
                  f"re-creating a topic failed with the wrong error: {error}")

        metadata = admin.list_topics(timeout=10)
        check(topic in metadata.topics and doomed in metadata.topics, "created topics missing from list_topics")
        check(len(metadata.topics[topic].partitions) == 2, "new topic does not have 2 partitions")

        result_of(admin.delete_topics([doomed], operation_timeout=10), "delete_topics")
        wait_until(lambda: doomed not in admin.list_topics(timeout=10).topics, f"{doomed} to disappear after delete_topics")
        out["deletedTopicGone"] = True

        result_of(admin.create_partitions([NewPartitions(topic, 3)], operation_timeout=10), "create_partitions")
        wait_until(lambda: len(admin.list_topics(topic, timeout=10).topics[topic].partitions) == 3,
                   "the topic to have 3 partitions after create_partitions")
        out["partitionsAfterGrow"] = 3

        configs = self.describe_topic_configs(topic)
        check(configs.get("retention.ms") == "3600000", f"retention.ms from create_topics is {configs.get('retention.ms')}")
        out["describedConfigCount"] = len(configs)

        incremental = {
            "retention.ms": "7200000", "retention.bytes": "1048576", "cleanup.policy": "compact",
            "min.insync.replicas": "1", "max.message.bytes": "2097152",
        }
        resource = ConfigResource(ConfigResource.Type.TOPIC, topic, incremental_configs=[
            ConfigEntry(name, value, incremental_operation=AlterConfigOpType.SET) for name, value in incremental.items()
        ])
        result_of(admin.incremental_alter_configs([resource]), "incremental_alter_configs")
        configs = self.describe_topic_configs(topic)
        for name, value in incremental.items():
            check(configs.get(name) == value, f"after incremental_alter_configs {name}={configs.get(name)}, expected {value}")
        out["incrementalAltered"] = {name: configs[name] for name in incremental}

        # A dry run refuses what the real call would refuse, and changes nothing.
        def dry_run(value):
            resource = ConfigResource(ConfigResource.Type.TOPIC, topic, incremental_configs=[
                ConfigEntry("retention.ms", value, incremental_operation=AlterConfigOpType.SET)])
            try:
                result_of(admin.incremental_alter_configs([resource], validate_only=True), "incremental_alter_configs (validate_only)")
                return "ok"
            except CheckFailed as error:
                return "INVALID_CONFIG" if "INVALID_CONFIG" in str(error) or "invalid value" in str(error) else str(error)

        dry = {"bad": dry_run("abc"), "good": dry_run("1000")}
        check(dry == {"bad": "INVALID_CONFIG", "good": "ok"}, f"validate_only outcomes {dry}")
        unchanged = self.describe_topic_configs(topic).get("retention.ms")
        check(unchanged == "7200000", f"a validate_only call changed retention.ms to {unchanged}")
        out["validateOnly"] = dry

        # DELETE reverts to the default; APPEND adds to a list config.
        resource = ConfigResource(ConfigResource.Type.TOPIC, topic, incremental_configs=[
            ConfigEntry("retention.bytes", None, incremental_operation=AlterConfigOpType.DELETE),
            ConfigEntry("cleanup.policy", "delete", incremental_operation=AlterConfigOpType.APPEND),
        ])
        result_of(admin.incremental_alter_configs([resource]), "incremental_alter_configs (delete/append)")
        configs = self.describe_topic_configs(topic)
        check(configs.get("retention.bytes") == "-1", f"retention.bytes after DELETE is {configs.get('retention.bytes')}")
        check(set((configs.get("cleanup.policy") or "").split(",")) == {"compact", "delete"},
              f"cleanup.policy after APPEND is {configs.get('cleanup.policy')}")
        out["afterDeleteAppend"] = {"retention.bytes": configs["retention.bytes"], "cleanup.policy": configs["cleanup.policy"]}

        # alter_configs replaces the whole dynamic set: what it does not name reverts to default.
        resource = ConfigResource(ConfigResource.Type.TOPIC, topic, set_config={"retention.ms": "60000"})
        result_of(admin.alter_configs([resource]), "alter_configs")
        configs = self.describe_topic_configs(topic)
        check(configs.get("retention.ms") == "60000", f"retention.ms after alter_configs is {configs.get('retention.ms')}")
        check(configs.get("cleanup.policy") == "delete", f"cleanup.policy after alter_configs is {configs.get('cleanup.policy')}")
        out["afterAlter"] = {"retention.ms": configs["retention.ms"], "cleanup.policy": configs["cleanup.policy"]}

        # Records with known timestamps for list_offsets by time, then delete_records.
        base = int(time.time() * 1000) - 60_000
        producer = Producer(self.conf())
        for i in range(10):
            producer.produce(topic, key=f"k{i}", value=f"v{i}", partition=0, timestamp=base + i * 1000)
        check(producer.flush(DEADLINE_SECONDS) == 0, "records still undelivered after flush")

        def list_offsets(spec):
            tp = TopicPartition(topic, 0)
            return result_of(admin.list_offsets({tp: spec}), "list_offsets")[tp].offset

        earliest, latest = list_offsets(OffsetSpec.earliest()), list_offsets(OffsetSpec.latest())
        by_time = list_offsets(OffsetSpec.for_timestamp(base + 4500))
        check((earliest, latest, by_time) == (0, 10, 5), f"list_offsets earliest/latest/by time = {earliest}/{latest}/{by_time}, expected 0/10/5")
        # The newest timestamp sits in the middle of the partition, not at its start or end.
        producer.produce(topic, value="late-stamped", partition=0, timestamp=base + 30_000)
        producer.produce(topic, value="early-stamped", partition=0, timestamp=base - 30_000)
        check(producer.flush(DEADLINE_SECONDS) == 0, "records still undelivered after flush")
        max_ts = list_offsets(OffsetSpec.max_timestamp())
        check(max_ts == 10, f"list_offsets max_timestamp = {max_ts}, expected 10 (the record stamped latest)")
        out["listOffsets"] = {"earliest": earliest, "latest": latest, "byTimestamp": by_time, "maxTimestamp": max_ts}

        deleted = result_of(admin.delete_records([TopicPartition(topic, 0, 4)]), "delete_records")
        low = next(iter(deleted.values())).low_watermark
        check(low == 4, f"delete_records low watermark {low}, expected 4")
        earliest_after = list_offsets(OffsetSpec.earliest())
        check(earliest_after == 4, f"earliest after delete_records is {earliest_after}, expected 4")
        out["deleteRecords"] = {"lowWatermark": low, "earliestAfter": earliest_after}

        # Groups: a member commits, then the admin lists, describes, reads and moves the offsets.
        group = unique("cp-admin-group")
        consumer = Consumer(self.conf(**{"group.id": group, "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
                                         "auto.offset.reset": "earliest", "enable.auto.commit": False}))
        assigned = set()
        consumer.subscribe([topic], on_assign=lambda c, ps: assigned.update(p.partition for p in ps))

        def poll():
            message = consumer.poll(0.1)
            check(message is None or message.error() is None, f"consume error: {message and message.error()}")

        wait_until(lambda: assigned == {0, 1, 2}, "the admin group's consumer to be assigned 3 partitions", tick=poll)
        consumer.commit(offsets=[TopicPartition(topic, 0, 7)], asynchronous=False)

        listed = admin.list_consumer_groups().result(timeout=DEADLINE_SECONDS)
        listed_ids = {g.group_id for g in listed.valid}
        check(group in listed_ids, f"list_consumer_groups misses {group}: {sorted(listed_ids)}; errors {listed.errors}")
        out["listedGroup"] = True

        described = result_of(admin.describe_consumer_groups([group]), "describe_consumer_groups")[group]
        check(str(described.state).endswith("STABLE"), f"group state {described.state}")
        check(len(described.members) == 1, f"{len(described.members)} members described")
        member_partitions = sorted(tp.partition for tp in described.members[0].assignment.topic_partitions)
        check(member_partitions == [0, 1, 2], f"described assignment {member_partitions}")
        out["describedGroup"] = {"state": str(described.state).split(".")[-1], "members": len(described.members),
                                 "assignment": member_partitions, "assignor": described.partition_assignor}

        def group_offsets():
            request = [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p) for p in range(3)])]
            result = result_of(admin.list_consumer_group_offsets(request), "list_consumer_group_offsets")[group]
            return {tp.partition: tp.offset for tp in result.topic_partitions}

        listed_offsets = group_offsets()
        check(listed_offsets.get(0) == 7, f"list_consumer_group_offsets gave {listed_offsets}")
        consumer.close()  # an active member would make the alteration fail with UNKNOWN_MEMBER_ID
        wait_until(lambda: str(result_of(admin.describe_consumer_groups([group]), "describe_consumer_groups")[group].state).endswith("EMPTY"),
                   "the group to be EMPTY after its member left")
        request = [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0, 9), TopicPartition(topic, 1, 3)])]
        result_of(admin.alter_consumer_group_offsets(request), "alter_consumer_group_offsets")
        altered = group_offsets()
        check(altered.get(0) == 9 and altered.get(1) == 3, f"offsets after alter_consumer_group_offsets: {altered}")
        out["groupOffsets"] = {"listed": listed_offsets.get(0), "altered": {"0": altered[0], "1": altered[1]}}
        self.summary["admin"] = out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--debug", action="store_true", help="librdkafka debug logs on stderr")
    args = parser.parse_args()
    suite = Suite(args.bootstrap, args.debug)
    scenarios = [suite.scenario_producer, suite.scenario_log_append_time, suite.scenario_admin, suite.scenario_group,
                 suite.scenario_cooperative_group, suite.scenario_static_membership, suite.scenario_member_crash]
    status = 0
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
    suite.summary["client"] = {"confluent_kafka": __import__("confluent_kafka").__version__,
                               "librdkafka": __import__("confluent_kafka").libversion()[0]}
    print(json.dumps(suite.summary, sort_keys=True))
    sys.stdout.flush()
    return status


if __name__ == "__main__":
    sys.exit(main())
