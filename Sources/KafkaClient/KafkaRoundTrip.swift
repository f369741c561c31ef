/// A produce-consume-commit round trip through a cluster that checks every record came back
/// intact: the canary the health probes use, and what `switchback demo` shows.
public struct KafkaRoundTrip: Sendable {
    /// How far a round trip has got, for progress output.
    public enum Progress: Sendable {
        case produced(Int, of: Int)
        case consumed(Int, of: Int)
        case committed([TopicPartition: Offset])
    }

    /// What a round trip found.
    public struct Report: Sendable {
        public var records: Int
        public var produceDuration: Duration
        public var consumeDuration: Duration
        /// The group's committed next offsets to read, as read back after the commit.
        public var committed: [TopicPartition: Offset]
        /// The log end of each partition after producing.
        public var endOffsets: [TopicPartition: Offset]
        /// Every difference found; empty when the round trip is clean.
        public var problems: [String]

        public var succeeded: Bool { problems.isEmpty }
    }

    public var bootstrapServers: [String]
    public var topic: TopicName
    public var partitions: Int32
    public var records: Int
    public var group: GroupID
    /// How long consuming everything back may take.
    public var timeout: Duration

    public init(
        bootstrapServers: [String], topic: TopicName, partitions: Int32, records: Int, group: GroupID,
        timeout: Duration = .seconds(60)
    ) {
        self.bootstrapServers = bootstrapServers
        self.topic = topic
        self.partitions = partitions
        self.records = records
        self.group = group
        self.timeout = timeout
    }

    static let sequenceHeader = "switchback-seq"
    static let runHeader = "switchback-run"

    /// Produces `records` keyed records with headers, reads them back as a member of `group`,
    /// commits, and compares. Problems are reported, not thrown; errors from Kafka are thrown.
    /// - Parameter clock: measures the phases and bounds consuming by ``timeout``.
    public func run<C: Clock>(
        clock: C = ContinuousClock(), progress: @Sendable (Progress) -> Void = { _ in }
    ) async throws(KafkaError) -> Report where C.Duration == Duration {
        let run = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        var problems: [String] = []

        // Produce.
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: bootstrapServers))
        let produceStart = clock.now
        var expected: [Int: ProducerRecord] = [:]
        var batchStart = 0
        while batchStart < records {
            let batch = (batchStart..<min(records, batchStart + 1_000)).map { index in
                ProducerRecord(
                    topic: topic, key: "key-\(index)", value: "value-\(index)-\(run)",
                    headers: [KafkaHeader(key: Self.sequenceHeader, string: String(index)), KafkaHeader(key: Self.runHeader, string: run)])
            }
            let outcomes: [Result<DeliveredRecord, KafkaError>]
            do {
                outcomes = try await producer.send(batch)
            } catch {
                await producer.shutdown()
                throw error
            }
            for (offset, outcome) in outcomes.enumerated() {
                if case .failure(let error) = outcome { problems.append("record \(batchStart + offset) was not delivered: \(error)") }
            }
            for (offset, record) in batch.enumerated() { expected[batchStart + offset] = record }
            batchStart += batch.count
            progress(.produced(batchStart, of: records))
        }
        await producer.shutdown()
        let produceDuration = produceStart.duration(to: clock.now)

        // Consume back as a group member.
        var configuration = KafkaConsumerConfiguration(bootstrapServers: bootstrapServers, groupID: group)
        configuration.offsetReset = .earliest
        let consumer = try KafkaConsumer(configuration: configuration)
        let partitionList = (0..<partitions).map { TopicPartition(topic, Partition($0)) }
        let consumeStart = clock.now
        var seen: Set<Int> = []
        var nextOffsets: [TopicPartition: Offset] = [:]
        let endOffsets: [TopicPartition: Offset]
        let committed: [TopicPartition: Offset]
        do {
            endOffsets = try await consumer.endOffsets(partitionList)
            try consumer.subscribe([topic])
            let deadline = clock.now.advanced(by: timeout)
            let records = consumer.records
            var iterator = records.makeAsyncIterator()
            while seen.count < expected.count, clock.now < deadline, let record = try await iterator.next() {
                guard Self.header(Self.runHeader, of: record) == run else { continue }
                nextOffsets[record.topicPartition] = max(nextOffsets[record.topicPartition] ?? 0, record.offset.next)
                guard let sequence = Self.header(Self.sequenceHeader, of: record).flatMap({ Int($0) }),
                    let sent = expected[sequence]
                else {
                    problems.append("\(record) carries no valid sequence header")
                    continue
                }
                if !seen.insert(sequence).inserted { problems.append("record \(sequence) arrived twice (\(record))") }
                if record.key != sent.key || record.value != sent.value || record.headers != sent.headers {
                    problems.append("record \(sequence) came back changed at \(record)")
                }
                if seen.count % 1_000 == 0 || seen.count == expected.count {
                    progress(.consumed(seen.count, of: expected.count))
                }
            }
            try await consumer.commit(nextOffsets: nextOffsets)
            committed = try await consumer.committed(partitionList)
            progress(.committed(committed))
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
        let consumeDuration = consumeStart.duration(to: clock.now)

        if seen.count < expected.count {
            problems.append("only \(seen.count) of \(expected.count) records came back within \(timeout)")
        }
        if committed != nextOffsets {
            problems.append("committed offsets \(committed) differ from those committed \(nextOffsets)")
        }
        // Only this run wrote since the end offsets were read, so its records end each partition.
        for (partition, next) in nextOffsets where next != endOffsets[partition] {
            problems.append("\(partition) was read up to \(next) but ends at \(endOffsets[partition].map { "\($0)" } ?? "unknown")")
        }
        return Report(
            records: seen.count, produceDuration: produceDuration, consumeDuration: consumeDuration,
            committed: committed, endOffsets: endOffsets, problems: problems)
    }

    private static func header(_ key: String, of record: KafkaRecord) -> String? {
        guard case .some(.some(let value)) = record.headers.first(named: key) else { return nil }
        return String(decoding: value, as: UTF8.self)
    }
}
