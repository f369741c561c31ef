/// The records a ``KafkaConsumer`` reads, as an asynchronous sequence.
///
/// Records are fetched in batches off the cooperative pool, so iterating costs one hop per
/// batch, not per record. The sequence ends when the consumer is closed or the iterating task
/// is cancelled; it throws when consumption cannot go on (a fatal error, or an offset out of
/// range with `offsetReset = .error`). Transient errors are logged and retried by librdkafka.
public struct KafkaConsumerRecords: AsyncSequence, Sendable {
    public typealias Element = KafkaRecord
    public typealias Failure = KafkaError

    let consumer: KafkaConsumer

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(consumer: consumer)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        public typealias Element = KafkaRecord
        public typealias Failure = KafkaError

        let consumer: KafkaConsumer
        private var buffer: [KafkaRecord] = []
        private var index = 0

        init(consumer: KafkaConsumer) {
            self.consumer = consumer
        }

        public mutating func next() async throws(KafkaError) -> KafkaRecord? {
            while index >= buffer.count {
                if consumer.isClosed || Task.isCancelled { return nil }
                buffer = try await consumer.poll()
                index = 0
            }
            defer { index += 1 }
            return buffer[index]
        }
    }
}
