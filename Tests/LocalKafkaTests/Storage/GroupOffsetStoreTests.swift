import Foundation
import Testing
@testable import LocalKafka

@Suite struct GroupOffsetStoreTests {
    private func offset(_ topic: String, _ partition: Int32, _ value: Int64) -> CommittedOffset {
        CommittedOffset(topic: topic, partition: partition, offset: value, leaderEpoch: 0, metadata: "m\(value)", commitTimestampMs: 100 + value)
    }

    @Test(arguments: [true, false])
    func commitsPersistAcrossRestart(cleanShutdown: Bool) throws {
        try withTemporaryDirectory { directory in
            do {
                let store = try openStore(directory)
                _ = try store.createTopic("a", partitions: 2, configs: [:])
                try store.groupOffsets.commit(group: "g1", offsets: [offset("a", 0, 5), offset("a", 1, 7)])
                try store.groupOffsets.commit(group: "g1", offsets: [offset("a", 0, 9)])
                try store.groupOffsets.commit(group: "g2", offsets: [offset("a", 1, 3), offset("b", 0, 1)])
                try store.groupOffsets.delete(group: "g2", partitions: [(topic: "b", partition: 0)])
                try store.groupOffsets.commit(group: "g3", offsets: [offset("a", 0, 1)])
                try store.groupOffsets.deleteGroup("g3")
                if cleanShutdown { store.close() }
            }
            let store = try openStore(directory)
            defer { store.close() }
            let offsets = store.groupOffsets
            #expect(offsets.groups == ["g1", "g2"])
            #expect(offsets.fetch(group: "g1") == [offset("a", 0, 9), offset("a", 1, 7)])
            #expect(offsets.fetch(group: "g2") == [offset("a", 1, 3)])
            #expect(offsets.fetch(group: "g1", topic: "a", partition: 1)?.metadata == "m7")
            #expect(offsets.fetch(group: "g1", topic: "a", partition: 2) == nil)
            #expect(offsets.fetch(group: "nobody").isEmpty)
        }
    }

    @Test func tornLastCommitIsDiscarded() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("group-offsets.log")
            var completeSize = 0
            do {
                let store = try openStore(directory)
                try store.groupOffsets.commit(group: "g", offsets: [offset("t", 0, 1)])
                completeSize = try fileSize(path)
                try store.groupOffsets.commit(group: "g", offsets: [offset("t", 0, 2)])
            }
            let full = try Data(contentsOf: path)
            for cut in completeSize + 1..<full.count {
                try full.prefix(cut).write(to: path)
                let store = try openStore(directory)
                #expect(store.groupOffsets.fetch(group: "g", topic: "t", partition: 0)?.offset == 1, "cut at \(cut)")
                try store.groupOffsets.commit(group: "g", offsets: [offset("t", 0, 3)])
                store.close()
                let reopened = try openStore(directory)
                #expect(reopened.groupOffsets.fetch(group: "g", topic: "t", partition: 0)?.offset == 3, "cut at \(cut)")
                reopened.close()
            }
        }
    }

    @Test func deletingATopicRemovesItsCommittedOffsets() throws {
        try withTemporaryDirectory { directory in
            let store = try openStore(directory)
            defer { store.close() }
            _ = try store.createTopic("a", partitions: 1, configs: [:])
            _ = try store.createTopic("b", partitions: 1, configs: [:])
            try store.groupOffsets.commit(group: "g", offsets: [offset("a", 0, 1), offset("b", 0, 2)])
            try store.deleteTopic("a")
            #expect(store.groupOffsets.fetch(group: "g") == [offset("b", 0, 2)])
        }
    }
}
