import CRdKafka

extension RDClient {
    /// Hands one record to librdkafka with `rd_kafka_produceva` (Swift cannot call the
    /// variadic `rd_kafka_producev`). librdkafka copies everything it needs before returning.
    ///
    /// - Parameter opaque: comes back in the record's delivery report.
    func produce(_ record: ProducerRecord, opaque: UInt) throws(KafkaError) {
        // Both buffers live on the stack for ordinary records: no allocation per record.
        let error = withUnsafeTemporaryAllocation(byteCount: Swift.max(record.arenaSize, 1), alignment: 8) { storage in
            withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 7 + record.headers.count) { arguments in
                var arena = RDArena(borrowing: storage)
                defer { arena.deallocate() }
                var count = 0
                func append(_ type: rd_kafka_vtype_t, _ fill: (inout rd_kafka_vu_t) -> Void) {
                    var argument = rd_kafka_vu_t()
                    argument.vtype = type
                    fill(&argument)
                    arguments.initializeElement(at: count, to: argument)
                    count += 1
                }
                append(RD_KAFKA_VTYPE_TOPIC) { $0.u.cstr = arena.cString(record.topic.rawValue) }
                append(RD_KAFKA_VTYPE_PARTITION) { $0.u.i32 = record.partition?.rawValue ?? RD_KAFKA_PARTITION_UA }
                append(RD_KAFKA_VTYPE_MSGFLAGS) { $0.u.i = RD_KAFKA_MSG_F_COPY }
                append(RD_KAFKA_VTYPE_OPAQUE) { $0.u.ptr = UnsafeMutableRawPointer(bitPattern: opaque) }
                // Absent key and value are left out, which librdkafka sends as null; an empty
                // one gets a real pointer so Kafka keeps it apart from null.
                if let key = record.key {
                    append(RD_KAFKA_VTYPE_KEY) {
                        $0.u.mem.ptr = arena.bytes(key)
                        $0.u.mem.size = key.count
                    }
                }
                if let value = record.value {
                    append(RD_KAFKA_VTYPE_VALUE) {
                        $0.u.mem.ptr = arena.bytes(value)
                        $0.u.mem.size = value.count
                    }
                }
                if let timestamp = record.timestamp {
                    append(RD_KAFKA_VTYPE_TIMESTAMP) { $0.u.i64 = timestamp.milliseconds }
                }
                for header in record.headers {
                    append(RD_KAFKA_VTYPE_HEADER) {
                        $0.u.header.name = arena.cString(header.key)
                        if let value = header.value {
                            $0.u.header.val = UnsafeRawPointer(arena.bytes(value))
                            $0.u.header.size = value.count
                        } else {
                            $0.u.header.val = nil
                            $0.u.header.size = 0
                        }
                    }
                }
                return rd_kafka_produceva(handle, arguments.baseAddress, count)
            }
        }
        if let error {
            throw RDErrorCode.take(error, while: "sending a record to \(record.topic)")
                .on(record.topic, record.partition)
        }
    }
}

extension RDClient {
    /// Blocking: waits until every record handed over has its delivery report queued and
    /// handed to the poll thread, or `timeout` passes.
    func flush(timeout: Duration) throws(KafkaError) {
        let result = rd_kafka_flush(handle, timeout.clampedMilliseconds)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw RDErrorCode.error(
                result, while: "flushing the producer",
                detail: "\(rd_kafka_outq_len(handle)) records or requests still outstanding after \(timeout)")
        }
    }

    /// Blocking: fails every record not yet delivered (each gets a delivery report with a
    /// purge error) and waits up to `timeout` for those reports.
    func purgeUndelivered(timeout: Duration) {
        rd_kafka_purge(handle, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT | RD_KAFKA_PURGE_F_NON_BLOCKING)
        _ = rd_kafka_flush(handle, timeout.clampedMilliseconds)
    }

    /// Raises a fatal error as if the cluster had caused one (librdkafka's test hook), so the
    /// fatal path can be tested without a broker that misbehaves.
    func raiseFatalErrorForTesting(_ code: KafkaError.Code, reason: String) {
        _ = rd_kafka_test_fatal_error(handle, rd_kafka_resp_err_t(rawValue: code.rawValue), reason)
    }
}

/// One buffer that holds the C strings and bytes of a call's arguments while it runs.
///
/// - Important: The caller sizes the buffer for everything it copies in (see
///   `ProducerRecord.arenaSize`); the arena does not grow.
struct RDArena {
    private let base: UnsafeMutableRawPointer
    private let owned: Bool
    private var used = 0

    /// An arena with its own heap buffer; call ``deallocate()`` when done.
    init(capacity: Int) {
        base = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(capacity, 1), alignment: 8)
        owned = true
    }

    /// An arena over a buffer someone else owns (a temporary stack allocation).
    init(borrowing buffer: UnsafeMutableRawBufferPointer) {
        // A temporary allocation of at least one byte always has an address.
        base = buffer.baseAddress ?? UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 8)
        owned = buffer.baseAddress == nil
    }

    func deallocate() {
        if owned { base.deallocate() }
    }

    /// A NUL-terminated copy of `string`.
    mutating func cString(_ string: String) -> UnsafePointer<CChar> {
        let start = base + used
        var count = 0
        for byte in string.utf8 {
            (start + count).storeBytes(of: byte, as: UInt8.self)
            count += 1
        }
        (start + count).storeBytes(of: 0, as: UInt8.self)
        used += count + 1
        return UnsafePointer(start.assumingMemoryBound(to: CChar.self))
    }

    /// A copy of `bytes`; never nil, even when `bytes` is empty.
    mutating func bytes(_ bytes: [UInt8]) -> UnsafeMutableRawPointer {
        let start = base + used
        bytes.withUnsafeBytes { source in
            if let address = source.baseAddress { start.copyMemory(from: address, byteCount: source.count) }
        }
        used += bytes.count
        return start
    }
}

extension ProducerRecord {
    /// Bytes `RDArena` needs for this record: every string with its terminator, every byte array.
    var arenaSize: Int {
        var size = topic.rawValue.utf8.count + 1 + (key?.count ?? 0) + (value?.count ?? 0)
        for header in headers { size += header.key.utf8.count + 1 + (header.value?.count ?? 0) }
        return size
    }
}
