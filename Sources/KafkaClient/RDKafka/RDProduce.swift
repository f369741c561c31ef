import CRdKafka

extension RDClient {
    /// Hands one record to librdkafka with `rd_kafka_produceva` (Swift cannot call the
    /// variadic `rd_kafka_producev`). librdkafka copies everything it needs before returning.
    ///
    /// - Parameter opaque: comes back in the record's delivery report.
    func produce(_ record: ProducerRecord, opaque: UInt) throws(KafkaError) {
        var arena = RDArena(capacity: record.arenaSize)
        defer { arena.deallocate() }

        var arguments: [rd_kafka_vu_t] = []
        arguments.reserveCapacity(6 + record.headers.count)

        var topic = rd_kafka_vu_t()
        topic.vtype = RD_KAFKA_VTYPE_TOPIC
        topic.u.cstr = arena.cString(record.topic.rawValue)
        arguments.append(topic)

        var partition = rd_kafka_vu_t()
        partition.vtype = RD_KAFKA_VTYPE_PARTITION
        partition.u.i32 = record.partition?.rawValue ?? RD_KAFKA_PARTITION_UA
        arguments.append(partition)

        var flags = rd_kafka_vu_t()
        flags.vtype = RD_KAFKA_VTYPE_MSGFLAGS
        flags.u.i = RD_KAFKA_MSG_F_COPY
        arguments.append(flags)

        var correlation = rd_kafka_vu_t()
        correlation.vtype = RD_KAFKA_VTYPE_OPAQUE
        correlation.u.ptr = UnsafeMutableRawPointer(bitPattern: opaque)
        arguments.append(correlation)

        // Absent key and value are left out, which librdkafka sends as null; an empty one
        // gets a real pointer so Kafka keeps it apart from null.
        if let key = record.key {
            var argument = rd_kafka_vu_t()
            argument.vtype = RD_KAFKA_VTYPE_KEY
            argument.u.mem.ptr = arena.bytes(key)
            argument.u.mem.size = key.count
            arguments.append(argument)
        }
        if let value = record.value {
            var argument = rd_kafka_vu_t()
            argument.vtype = RD_KAFKA_VTYPE_VALUE
            argument.u.mem.ptr = arena.bytes(value)
            argument.u.mem.size = value.count
            arguments.append(argument)
        }
        if let timestamp = record.timestamp {
            var argument = rd_kafka_vu_t()
            argument.vtype = RD_KAFKA_VTYPE_TIMESTAMP
            argument.u.i64 = timestamp.milliseconds
            arguments.append(argument)
        }
        for header in record.headers {
            var argument = rd_kafka_vu_t()
            argument.vtype = RD_KAFKA_VTYPE_HEADER
            argument.u.header.name = arena.cString(header.key)
            if let value = header.value {
                argument.u.header.val = UnsafeRawPointer(arena.bytes(value))
                argument.u.header.size = value.count
            } else {
                argument.u.header.val = nil
                argument.u.header.size = 0
            }
            arguments.append(argument)
        }

        let error = arguments.withUnsafeBufferPointer { buffer in
            rd_kafka_produceva(handle, buffer.baseAddress, buffer.count)
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

/// One allocation that holds the C strings and bytes of a record for the duration of a call.
struct RDArena {
    private let base: UnsafeMutableRawPointer
    private let capacity: Int
    private var used = 0

    init(capacity: Int) {
        self.capacity = Swift.max(capacity, 1)
        base = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 8)
    }

    func deallocate() { base.deallocate() }

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
