import Foundation
import KafkaWire
import NIOCore
import Testing
@testable import LocalKafka

@Suite struct LogStoreTests {
    private func code(_ error: any Error) -> StorageError.Code? { (error as? StorageError)?.code }

    @Test func topicsPersistAcrossRestart() throws {
        try withTemporaryDirectory { directory in
            let created: TopicMetadata
            do {
                let store = try openStore(directory)
                created = try store.createTopic("orders.v1_eu-west", partitions: 3, configs: ["retention.ms": "1000"])
                _ = try store.createTopic("doomed", partitions: 2, configs: [:])
                _ = try store.partition("doomed", 1)?.append(makeBatch(), nowMs: 0)
                try store.createPartitions("orders.v1_eu-west", totalCount: 5)
                try store.deleteTopic("doomed")
                try store.alterConfigs("orders.v1_eu-west", replacingWith: ["cleanup.policy": "compact", "segment.bytes": "4096"])
                store.close()
            }
            let store = try openStore(directory)
            defer { store.close() }
            #expect(store.topics.map(\.name) == ["orders.v1_eu-west"])
            let topic = try #require(store.topic("orders.v1_eu-west"))
            #expect(topic.topicID == created.topicID)
            #expect(topic.partitionCount == 5)
            #expect(topic.configs == ["cleanup.policy": "compact", "segment.bytes": "4096"])
            #expect(store.partition("orders.v1_eu-west", 4) != nil)
            #expect(store.partition("orders.v1_eu-west", 5) == nil)
            #expect(store.partition("doomed", 0) == nil)
            #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("topics/doomed-1").path))
            // A deleted name can be reused, starting from an empty log.
            _ = try store.createTopic("doomed", partitions: 1, configs: [:])
            #expect(store.partition("doomed", 0)?.logEndOffset == 0)
        }
    }

    @Test func topicIDsAreRandomAndSixteenBytes() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory)
            defer { store.close() }
            let a = try store.createTopic("a", partitions: 1, configs: [:])
            let b = try store.createTopic("b", partitions: 1, configs: [:])
            #expect(a.topicID.rawValue.count == 16)
            #expect(a.topicID != b.topicID)
            #expect(a.topicID.rawValue != [UInt8](repeating: 0, count: 16))
        }
    }

    @Test(arguments: ["", ".", "..", "has space", "slash/name", "ümlaut", String(repeating: "x", count: 250)])
    func invalidTopicNamesAreRejected(_ name: String) throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory)
            defer { store.close() }
            #expect(performing: { try store.createTopic(name, partitions: 1, configs: [:]) }, throws: { code($0) == .invalidTopicName })
        }
    }

    @Test func topicErrorsSayWhatIsWrong() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory)
            defer { store.close() }
            _ = try store.createTopic(String(repeating: "x", count: 249), partitions: 1, configs: [:])
            _ = try store.createTopic("t", partitions: 2, configs: [:])
            #expect(performing: { try store.createTopic("t", partitions: 1, configs: [:]) }, throws: { code($0) == .topicAlreadyExists })
            _ = try store.createTopic("a.b", partitions: 1, configs: [:])
            #expect(performing: { try store.createTopic("a_b", partitions: 1, configs: [:]) }, throws: { code($0) == .invalidTopicName })
            #expect(performing: { try store.createTopic("u", partitions: 0, configs: [:]) }, throws: { code($0) == .invalidPartitions })
            #expect(performing: { try store.createPartitions("t", totalCount: 2) }, throws: { code($0) == .invalidPartitions })
            #expect(performing: { try store.createPartitions("nope", totalCount: 2) }, throws: { code($0) == .unknownTopicOrPartition })
            #expect(performing: { try store.deleteTopic("nope") }, throws: { code($0) == .unknownTopicOrPartition })
            do throws(StorageError) {
                _ = try store.createTopic("u", partitions: 1, configs: ["retention.msec": "5"])
                Issue.record("an unknown config key was accepted")
            } catch {
                #expect(error.code == .invalidConfig(key: "retention.msec", value: "5", reason: "unknown config"))
                #expect(error.message.contains("retention.msec"))
            }
            #expect(store.topic("u") == nil)
            // validateOnly variants report the same errors and change nothing.
            #expect(performing: { try store.validateNewTopic("t", partitions: 1, configs: [:]) }, throws: { code($0) == .topicAlreadyExists })
            try store.validateNewTopic("v", partitions: 3, configs: ["retention.ms": "5"])
            #expect(store.topic("v") == nil)
            #expect(performing: { try store.validateCreatePartitions("t", totalCount: 1) }, throws: { code($0) == .invalidPartitions })
            try store.validateCreatePartitions("t", totalCount: 4)
            #expect(store.topic("t")?.partitionCount == 2)
            #expect(try store.configsAfter([ConfigOperation(key: "retention.ms", .set("7"))], on: "t") == ["retention.ms": "7"])
            #expect(store.topic("t")?.configs == [:])
            #expect(throws: StorageError.self) { try store.validateConfigs(["segment.bytes": "1"]) }
        }
    }

    @Test(arguments: [
        ("retention.ms", "-2"), ("retention.ms", "soon"), ("retention.bytes", "-5"), ("cleanup.policy", "shred"),
        ("cleanup.policy", ""), ("min.insync.replicas", "0"), ("max.message.bytes", "-1"), ("segment.bytes", "10"),
        ("message.timestamp.type", "WallClock"),
    ])
    func invalidConfigValuesNameKeyAndValue(_ key: String, _ value: String) throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory)
            defer { store.close() }
            do throws(StorageError) {
                _ = try store.createTopic("t", partitions: 1, configs: [key: value])
                Issue.record("\(key)=\(value) was accepted")
            } catch {
                guard case .invalidConfig(let badKey, let badValue, _) = error.code else {
                    Issue.record("unexpected error \(error)")
                    return
                }
                #expect(badKey == key && badValue == value)
                #expect(error.message.contains(key))
            }
        }
    }

    @Test func effectiveConfigsListDefaultsAndOverrides() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory, segmentBytes: 123_456)
            defer { store.close() }
            _ = try store.createTopic("t", partitions: 1, configs: ["retention.bytes": "1000", "message.timestamp.type": "LogAppendTime"])
            let entries = try #require(store.effectiveConfigs("t"))
            let byName = Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0) })
            #expect(Set(byName.keys) == Set(TopicConfigKey.all))
            #expect(byName["retention.ms"]?.value == "604800000" && byName["retention.ms"]?.isDefault == true)
            #expect(byName["retention.bytes"]?.value == "1000" && byName["retention.bytes"]?.isDefault == false)
            #expect(byName["max.message.bytes"]?.value == "1048588")
            #expect(byName["segment.bytes"]?.value == "123456")
            #expect(byName["cleanup.policy"]?.value == "delete")
            #expect(byName["min.insync.replicas"]?.value == "1")
            #expect(entries.allSatisfy { !$0.isSensitive && !$0.readOnly })
            #expect(store.effectiveConfigs("nope") == nil)
            // LogAppendTime topics report the broker's append time.
            #expect(try store.partition("t", 0)?.append(makeBatch(), nowMs: 4242).logAppendTimeMs == 4242)
        }
    }

    @Test func alterConfigsReplacesAndIncrementalEdits() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory)
            defer { store.close() }
            _ = try store.createTopic("t", partitions: 1, configs: ["retention.ms": "1000", "retention.bytes": "5000"])
            try store.alterConfigs("t", replacingWith: ["retention.ms": "2000"])
            #expect(store.topic("t")?.configs == ["retention.ms": "2000"])
            try store.incrementalAlterConfigs("t", operations: [
                ConfigOperation(key: "max.message.bytes", .set("300")),
                ConfigOperation(key: "retention.ms", .delete),
                ConfigOperation(key: "cleanup.policy", .append("compact")),
            ])
            #expect(store.topic("t")?.configs == ["max.message.bytes": "300", "cleanup.policy": "delete,compact"])
            try store.incrementalAlterConfigs("t", operations: [ConfigOperation(key: "cleanup.policy", .subtract("delete"))])
            #expect(store.topic("t")?.configs["cleanup.policy"] == "compact")
            // New settings apply to the partitions at once.
            #expect(performing: { try store.partition("t", 0)?.append(makeBatch(count: 20), nowMs: 0) }, throws: { code($0) == .messageTooLarge })
            // Nothing is applied when any operation is invalid.
            #expect(throws: StorageError.self) {
                try store.incrementalAlterConfigs("t", operations: [
                    ConfigOperation(key: "retention.ms", .set("5")), ConfigOperation(key: "retention.ms", .append("6")),
                ])
            }
            #expect(throws: StorageError.self) { try store.alterConfigs("t", replacingWith: ["bogus": "1"]) }
            #expect(store.topic("t")?.configs == ["max.message.bytes": "300", "cleanup.policy": "compact"])
            #expect(performing: { try store.alterConfigs("nope", replacingWith: [:]) }, throws: { code($0) == .unknownTopicOrPartition })
        }
    }

    @Test func producerIdsAreNeverReusedAcrossRestarts() throws {
        try withTemporaryDirectory { directory in
            var seen = Set<Int64>()
            for _ in 0..<3 {
                let store = try openStore(directory)
                for _ in 0..<5 { #expect(seen.insert(try store.allocateProducerId()).inserted) }
                // Half the rounds end with a crash (no close).
                if seen.count % 2 == 0 { store.close() }
            }
            #expect(seen.count == 15)
        }
    }

    @Test func secondStoreOnTheSameDirectoryIsRefused() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory)
            #expect(throws: StorageError.self) { try openStore(directory) }
            store.close()
            let reopened = try openStore(directory)
            reopened.close()
        }
    }

    @Test func recreatingATopicIgnoresStaleDirectoriesOfItsPredecessor() throws {
        try withTemporaryDirectory { directory in
            // A crash after the metadata file was removed but before the data was: the
            // directory stays until the name is reused (or the next open).
            let store = try openStore(directory)
            defer { store.close() }
            _ = try store.createTopic("t", partitions: 1, configs: [:])
            _ = try store.partition("t", 0)?.append(makeBatch(count: 3), nowMs: 0)
            let stale = directory.appendingPathComponent("topics/t-0")
            let saved = directory.appendingPathComponent("saved-t-0")
            try FileManager.default.copyItem(at: stale, to: saved)
            try store.deleteTopic("t")
            try FileManager.default.moveItem(at: saved, to: stale)
            _ = try store.createTopic("t", partitions: 1, configs: [:])
            #expect(store.partition("t", 0)?.logEndOffset == 0)
        }
    }

    @Test func orphanPartitionDirectoriesAreRemovedOnOpen() throws {
        try withTemporaryDirectory { directory in
            let orphan = directory.appendingPathComponent("topics/ghost-0")
            try FileManager.default.createDirectory(at: orphan, withIntermediateDirectories: true)
            let store = try openStore(directory)
            defer { store.close() }
            #expect(!FileManager.default.fileExists(atPath: orphan.path))
            #expect(store.topics.isEmpty)
        }
    }

    @Test(arguments: [FsyncPolicy.always, .interval])
    func intervalAndAlwaysPoliciesBothSurviveCleanRestart(_ policy: FsyncPolicy) throws {
        try withTemporaryDirectory { directory in
            do {
                let store = try openStore(directory, fsync: policy)
                _ = try store.createTopic("t", partitions: 1, configs: [:])
                for index in 0..<10 { _ = try store.partition("t", 0)?.append(makeBatch(prefix: "v\(index)"), nowMs: 0) }
                try store.flush()
                store.close()
            }
            let store = try openStore(directory, fsync: policy)
            defer { store.close() }
            #expect(try readAll(try #require(store.partition("t", 0))).map(\.value).last == "v9-0")
        }
    }
}
