import KafkaWire

extension PartitionLog {
    /// The record with the greatest timestamp, and that timestamp (ListOffsets with the
    /// MAX_TIMESTAMP spec, -3). The earliest record wins a tie, as in Kafka. Compressed batches
    /// are decompressed; LogAppendTime batches are not opened: their base offset (or the log
    /// start, if later) stands for them. Nil for a partition with no records.
    public func offsetOfMaxTimestamp() -> (offset: Int64, timestamp: Int64)? {
        var best: (offset: Int64, timestamp: Int64)?
        do {
            // A segment whose greatest timestamp is no later than the best so far cannot improve it.
            for segment in segments where segment.nextOffset > logStartOffset && segment.maxTimestamp > (best?.timestamp ?? Int64.min) {
                var position = 0
                while position < segment.size {
                    let header = try segment.header(at: position)
                    defer { position += header.totalSize }
                    guard header.lastOffset >= logStartOffset, header.maxTimestamp > (best?.timestamp ?? Int64.min) else { continue }
                    guard header.timestampType == .createTime else {
                        best = (max(header.baseOffset, logStartOffset), header.maxTimestamp)
                        continue
                    }
                    let batch = try RecordBatch(bytes: segment.read(at: position, length: header.totalSize))
                    for record in try records(of: batch) {
                        let offset = header.baseOffset &+ Int64(record.offsetDelta)
                        let timestamp = header.baseTimestamp &+ record.timestampDelta
                        if offset >= logStartOffset, timestamp > (best?.timestamp ?? Int64.min) {
                            best = (offset, timestamp)
                        }
                    }
                }
            }
        } catch {
            logger.error("max timestamp lookup failed", metadata: ["partition": "\(topic)-\(partition)", "error": "\(error)"])
            return nil
        }
        return best
    }
}
