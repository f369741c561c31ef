import KafkaWire
import NIOCore

/// Fetch (with long-poll) and ListOffsets.
extension BrokerCore {
    /// Answers a Fetch, waiting up to `maxWaitMs` for `minBytes` of data as Kafka does.
    ///
    /// LocalKafka keeps no fetch sessions: it answers with session id 0, which tells clients to
    /// keep sending full fetch requests.
    func fetch(_ request: FetchRequest) async -> FetchResponse {
        let deadline = ContinuousClock.now + .milliseconds(Int(max(0, request.maxWaitMs)))
        let wanted = Set(request.topics.flatMap { topic in
            topic.partitions.map { PartitionKey(topic: topic.topic, partition: $0.partition) }
        })
        while true {
            let (response, bytes, hasError) = readFetch(request)
            if bytes >= Int(request.minBytes) || hasError || isShutDown || ContinuousClock.now >= deadline || wanted.isEmpty {
                return response
            }
            await waitForAppend(to: wanted, until: deadline)
        }
    }

    private func readFetch(_ request: FetchRequest) -> (FetchResponse, bytes: Int, hasError: Bool) {
        var remaining = request.maxBytes > 0 ? Int(request.maxBytes) : Int.max
        var total = 0
        var hasError = false
        var topics: [FetchResponse.FetchableTopicResponse] = []
        for topic in request.topics {
            var partitions: [FetchResponse.FetchableTopicResponse.PartitionData] = []
            for wanted in topic.partitions {
                guard let log = store.partition(topic.topic, wanted.partition) else {
                    hasError = true
                    partitions.append(.init(partitionIndex: wanted.partition, errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue,
                                            highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, records: ByteBuffer()))
                    continue
                }
                // The response's overall limit still lets the first partition with data through
                // whole-batch, so a consumer always makes progress.
                let limit = min(Int(max(0, wanted.partitionMaxBytes)), total == 0 ? max(remaining, 1) : remaining)
                let lastStableOffset = log.lastStableOffset
                do {
                    let read = limit > 0 ? try log.read(from: wanted.fetchOffset, maxBytes: limit) : nil
                    var records = read?.records ?? ByteBuffer()
                    var aborted: [FetchResponse.FetchableTopicResponse.PartitionData.AbortedTransaction] = []
                    if request.isolationLevel == IsolationLevel.readCommitted {
                        // Only decided records, and the aborted transactions among them so the
                        // client can drop their records.
                        records = PartitionLog.batches(records, below: lastStableOffset)
                        let upperBound = PartitionLog.nextOffset(after: records) ?? wanted.fetchOffset
                        aborted = log.abortedTransactions(from: wanted.fetchOffset, upTo: upperBound).map {
                            .init(producerId: $0.producerId, firstOffset: $0.firstOffset)
                        }
                    }
                    total += records.readableBytes
                    remaining = max(0, remaining - records.readableBytes)
                    partitions.append(.init(
                        partitionIndex: wanted.partition, errorCode: 0,
                        highWatermark: log.logEndOffset, lastStableOffset: lastStableOffset,
                        logStartOffset: log.logStartOffset, abortedTransactions: aborted, records: records
                    ))
                } catch {
                    hasError = true
                    partitions.append(.init(
                        partitionIndex: wanted.partition, errorCode: error.kafkaCode.rawValue,
                        highWatermark: log.logEndOffset, lastStableOffset: lastStableOffset,
                        logStartOffset: log.logStartOffset, records: ByteBuffer()
                    ))
                }
            }
            topics.append(.init(topic: topic.topic, partitions: partitions))
        }
        return (FetchResponse(errorCode: 0, sessionId: 0, responses: topics), total, hasError)
    }

    /// Suspends until a produce appends to one of `partitions`, or until `deadline`.
    private func waitForAppend(to partitions: Set<PartitionKey>, until deadline: ContinuousClock.Instant) async {
        let id = nextFetchWaiterID
        nextFetchWaiterID += 1
        let timeout = Task { [weak self] in
            try? await Task.sleep(until: deadline, clock: .continuous)
            await self?.wakeFetch(id)
        }
        await withCheckedContinuation { continuation in
            fetchWaiters[id] = FetchWaiter(partitions: partitions, continuation: continuation)
        }
        timeout.cancel()
    }

    private func wakeFetch(_ id: Int) {
        fetchWaiters.removeValue(forKey: id)?.continuation.resume()
    }

    /// Wakes the fetches waiting on any of `partitions` (after a produce appended to them).
    func wakeFetches(for partitions: [PartitionKey]) {
        guard !partitions.isEmpty, !fetchWaiters.isEmpty else { return }
        let changed = Set(partitions)
        for (id, waiter) in fetchWaiters where !waiter.partitions.isDisjoint(with: changed) {
            fetchWaiters.removeValue(forKey: id)
            waiter.continuation.resume()
        }
    }

    func listOffsets(_ request: ListOffsetsRequest, version: Int16) -> ListOffsetsResponse {
        let topics = request.topics.map { topic in
            ListOffsetsResponse.ListOffsetsTopicResponse(name: topic.name, partitions: topic.partitions.map { wanted in
                guard let log = store.partition(topic.name, wanted.partitionIndex) else {
                    return .init(partitionIndex: wanted.partitionIndex, errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue,
                                 timestamp: -1, offset: -1, leaderEpoch: -1)
                }
                let (offset, timestamp): (Int64, Int64) = switch wanted.timestamp {
                // read_committed consumers end at the last stable offset, not the high watermark.
                case ListOffsetsSpec.latest:
                    (request.isolationLevel == IsolationLevel.readCommitted ? log.lastStableOffset : log.logEndOffset, -1)
                case ListOffsetsSpec.earliest: (log.logStartOffset, -1)
                // Kafka serves the max-timestamp spec at any request version, and librdkafka
                // (2.16 seen) sends it at v5 to a broker that stops there.
                case ListOffsetsSpec.maxTimestamp: log.offsetOfMaxTimestamp() ?? (-1, -1)
                default: log.offset(forTimestamp: wanted.timestamp) ?? (-1, -1)
                }
                return .init(partitionIndex: wanted.partitionIndex, errorCode: 0,
                             oldStyleOffsets: version == 0 && offset >= 0 ? [offset] : [],
                             timestamp: timestamp, offset: offset, leaderEpoch: 0)
            })
        }
        return ListOffsetsResponse(topics: topics)
    }
}

/// Fetch and ListOffsets `isolation_level`.
enum IsolationLevel {
    static let readUncommitted: Int8 = 0
    /// Only records of committed transactions (and non-transactional ones), below the last stable offset.
    static let readCommitted: Int8 = 1
}

/// The special timestamps of ListOffsets.
enum ListOffsetsSpec {
    static let latest: Int64 = -1
    static let earliest: Int64 = -2
    /// The record with the greatest timestamp (KIP-734).
    static let maxTimestamp: Int64 = -3
}
