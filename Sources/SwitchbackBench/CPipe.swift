import CRdKafka
import Foundation

/// The plainest mirror there is, as the benchmark's baseline: librdkafka's C API called
/// directly — no Swift wrapper, no waiting per batch. One thread consumes a record
/// (`rd_kafka_consumer_poll`), hands its copy to the producer (`rd_kafka_produceva`: same
/// partition, key, value, headers and timestamp) and serves delivery reports
/// (`rd_kafka_poll`), with the producer settings the mirror uses: idempotent, `acks=all`, lz4,
/// the mirror's linger and batch size.
///
/// It is not a product: it copies no provenance, keeps no offset map, cannot resume. What the
/// mirror does beyond it is what the ratio of the two prices.
enum CPipe {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Delivery bookkeeping the C callback writes through the producer's opaque pointer.
    private final class Deliveries {
        var acknowledged = 0
        var failed = 0
        var firstError: String?
        var first: ContinuousClock.Instant?
        var firstBatch = 0
        var last: ContinuousClock.Instant?
    }

    /// Copies `records` records of `topic` (partitions 0..<partitions, from the beginning) on
    /// `source` to `targetTopic` on `target`; returns when every copy is acknowledged.
    /// Blocks its thread: run it off the cooperative pool (``copyOnThread``).
    static func copy(
        topic: String, partitions: Int32, records: Int, source: String, target: String, targetTopic: String,
        linger: Duration, batchBytes: Int
    ) throws -> MirrorBenchmark.CopyTime {
        let clock = ContinuousClock()
        let start = clock.now
        let deliveries = Deliveries()
        let producer = try client(
            RD_KAFKA_PRODUCER,
            [
                "bootstrap.servers": target, "enable.idempotence": "true", "acks": "all", "compression.codec": "lz4",
                "linger.ms": String(linger.components.seconds * 1000 + linger.components.attoseconds / 1_000_000_000_000_000),
                "batch.size": String(batchBytes), "queue.buffering.max.messages": "1000000",
            ],
            configure: { conf in
                rd_kafka_conf_set_dr_msg_cb(conf) { _, message, opaque in
                    guard let message, let opaque else { return }
                    let deliveries = Unmanaged<Deliveries>.fromOpaque(opaque).takeUnretainedValue()
                    if message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                        let now = ContinuousClock.now
                        if deliveries.first == nil { deliveries.first = now }
                        // Reports within a millisecond of the first belong to the first batch.
                        if let first = deliveries.first, now - first < .milliseconds(1) { deliveries.firstBatch += 1 }
                        deliveries.last = now
                        deliveries.acknowledged += 1
                    } else {
                        deliveries.failed += 1
                        if deliveries.firstError == nil { deliveries.firstError = String(cString: rd_kafka_err2str(message.pointee.err)) }
                    }
                }
                rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(deliveries).toOpaque())
            })
        defer { rd_kafka_destroy(producer) }
        let consumer = try client(
            RD_KAFKA_CONSUMER,
            [
                "bootstrap.servers": source, "group.id": "c-pipe-\(UUID().uuidString.prefix(8))",
                "enable.auto.commit": "false", "enable.partition.eof": "false", "auto.offset.reset": "earliest",
            ],
            configure: { _ in })
        defer {
            rd_kafka_consumer_close(consumer)
            rd_kafka_destroy(consumer)
        }
        rd_kafka_poll_set_consumer(consumer)
        guard let assignment = rd_kafka_topic_partition_list_new(partitions) else { throw Failure(description: "out of memory") }
        defer { rd_kafka_topic_partition_list_destroy(assignment) }
        for partition in 0..<partitions {
            rd_kafka_topic_partition_list_add(assignment, topic, partition).pointee.offset = Int64(RD_KAFKA_OFFSET_BEGINNING)
        }
        let assigned = rd_kafka_assign(consumer, assignment)
        if assigned != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw Failure(description: "assign: \(String(cString: rd_kafka_err2str(assigned)))")
        }

        var consumed = 0
        while deliveries.acknowledged + deliveries.failed < records {
            if consumed < records, let message = rd_kafka_consumer_poll(consumer, 0) {
                defer { rd_kafka_message_destroy(message) }
                if message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                    try produce(message, to: targetTopic, producer: producer)
                    consumed += 1
                } else if message.pointee.err != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                    throw Failure(description: "consume: \(String(cString: rd_kafka_err2str(message.pointee.err)))")
                }
                rd_kafka_poll(producer, 0)
            } else {
                // Nothing to read right now (or everything handed over): serve delivery reports.
                rd_kafka_poll(producer, consumed < records ? 1 : 10)
            }
        }
        if deliveries.failed > 0 {
            throw Failure(description: "\(deliveries.failed) copies failed, the first with: \(deliveries.firstError ?? "?")")
        }
        let end = deliveries.last ?? clock.now
        return MirrorBenchmark.CopyTime(total: end - start, steady: end - (deliveries.first ?? start), firstBatch: deliveries.firstBatch)
    }

    /// ``copy`` on a thread of its own, so the blocking C calls stay off the cooperative pool.
    static func copyOnThread(
        topic: String, partitions: Int32, records: Int, source: String, target: String, targetTopic: String,
        linger: Duration, batchBytes: Int
    ) async throws -> MirrorBenchmark.CopyTime {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result {
                    try copy(topic: topic, partitions: partitions, records: records, source: source, target: target,
                             targetTopic: targetTopic, linger: linger, batchBytes: batchBytes)
                })
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// The copy of one consumed record: the same partition, key, value, headers and timestamp.
    /// A full queue is waited out by serving delivery reports, as any librdkafka pipe does.
    private static func produce(_ message: UnsafeMutablePointer<rd_kafka_message_t>, to topic: String, producer: OpaquePointer) throws {
        var headers: OpaquePointer?
        let copiedHeaders: OpaquePointer? =
            rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR ? rd_kafka_headers_copy(headers) : nil
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &timestampType)
        try topic.withCString { name in
            while true {
                let error = withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 8) { arguments -> rd_kafka_resp_err_t in
                    var count = 0
                    func append(_ type: rd_kafka_vtype_t, _ fill: (inout rd_kafka_vu_t) -> Void) {
                        var argument = rd_kafka_vu_t()
                        argument.vtype = type
                        fill(&argument)
                        arguments.initializeElement(at: count, to: argument)
                        count += 1
                    }
                    append(RD_KAFKA_VTYPE_TOPIC) { $0.u.cstr = name }
                    append(RD_KAFKA_VTYPE_PARTITION) { $0.u.i32 = message.pointee.partition }
                    append(RD_KAFKA_VTYPE_MSGFLAGS) { $0.u.i = RD_KAFKA_MSG_F_COPY }
                    if let key = message.pointee.key {
                        append(RD_KAFKA_VTYPE_KEY) {
                            $0.u.mem.ptr = key
                            $0.u.mem.size = message.pointee.key_len
                        }
                    }
                    if let value = message.pointee.payload {
                        append(RD_KAFKA_VTYPE_VALUE) {
                            $0.u.mem.ptr = value
                            $0.u.mem.size = message.pointee.len
                        }
                    }
                    if timestamp >= 0 { append(RD_KAFKA_VTYPE_TIMESTAMP) { $0.u.i64 = timestamp } }
                    // On success the producer owns the copied headers.
                    if let copiedHeaders { append(RD_KAFKA_VTYPE_HEADERS) { $0.u.headers = copiedHeaders } }
                    guard let failure = rd_kafka_produceva(producer, arguments.baseAddress, count) else { return RD_KAFKA_RESP_ERR_NO_ERROR }
                    defer { rd_kafka_error_destroy(failure) }
                    return rd_kafka_error_code(failure)
                }
                if error == RD_KAFKA_RESP_ERR_NO_ERROR { return }
                guard error == RD_KAFKA_RESP_ERR__QUEUE_FULL else {
                    if let copiedHeaders { rd_kafka_headers_destroy(copiedHeaders) }
                    throw Failure(description: "produce: \(String(cString: rd_kafka_err2str(error)))")
                }
                rd_kafka_poll(producer, 10)
            }
        }
    }

    /// A librdkafka client from `properties`; `configure` adds callbacks before creation.
    private static func client(
        _ type: rd_kafka_type_t, _ properties: [String: String], configure: (OpaquePointer) -> Void
    ) throws -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else { throw Failure(description: "out of memory") }
        var errorText = [CChar](repeating: 0, count: 512)
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            if rd_kafka_conf_set(conf, key, value, &errorText, errorText.count) != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw Failure(description: "\(key)=\(value): \(String(cString: errorText))")
            }
        }
        configure(conf)
        // rd_kafka_new owns the conf on success only.
        guard let handle = rd_kafka_new(type, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            throw Failure(description: "rd_kafka_new: \(String(cString: errorText))")
        }
        return handle
    }
}
