import KafkaClient
import Testing

@testable import Mirror

@Suite("Record queue between the source reader and the copy loop")
struct RecordQueueTests {
    func record(_ offset: Int64) -> KafkaRecord {
        KafkaRecord(topic: "orders", partition: 0, offset: KafkaClient.Offset(offset), key: nil, value: [1], headers: [],
                    timestamp: nil, timestampType: nil)
    }

    @Test("takes in order, at most max at a time")
    func order() async {
        let queue = RecordQueue(capacity: 10)
        for offset in 0..<5 { await queue.put(record(Int64(offset))) }
        #expect(await queue.take(max: 3).map(\.offset.rawValue) == [0, 1, 2])
        #expect(await queue.take(max: 3).map(\.offset.rawValue) == [3, 4])
    }

    @Test("a full queue holds the putter until records are taken")
    func backpressure() async {
        let queue = RecordQueue(capacity: 2)
        await queue.put(record(0))
        await queue.put(record(1))
        let putting = Task { await queue.put(record(2)) }
        #expect(await queue.take(max: 10).map(\.offset.rawValue) == [0, 1])
        await putting.value
        #expect(await queue.take(max: 10).map(\.offset.rawValue) == [2])
    }

    @Test("a waiting taker gets the next record; wake ends a wait with nothing; max 0 waits for a wake only")
    func waking() async {
        let queue = RecordQueue(capacity: 4)
        let taking = Task { await queue.take(max: 5) }
        await queue.put(record(7))
        #expect(await taking.value.map(\.offset.rawValue) == [7])

        queue.wake()
        #expect(await queue.take(max: 5).isEmpty)

        await queue.put(record(8))
        queue.wake()
        #expect(await queue.take(max: 0).isEmpty)
        #expect(queue.count == 1)
    }

    @Test("close releases a blocked putter and taker")
    func closing() async {
        let queue = RecordQueue(capacity: 1)
        await queue.put(record(0))
        let putting = Task { await queue.put(record(1)) }
        queue.close()
        await putting.value
        #expect(await queue.take(max: 5).map(\.offset.rawValue) == [0])
        #expect(await queue.take(max: 5).isEmpty)
    }
}

extension RecordQueueTests {
    @Test("a reader failure wakes the taker and stays visible")
    func readerFailure() async {
        let queue = RecordQueue(capacity: 2)
        let taking = Task { await queue.take(max: 5) }
        queue.fail(MirrorError(.kafka, "source gone", isRetriable: true))
        #expect(await taking.value.isEmpty)
        #expect(queue.failure?.message == "source gone")
    }
}
