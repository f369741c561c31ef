import Sites

/// The text format of the local offset-map cache file: one update per line, each line guarded
/// by a CRC-32C, so a file can be appended to and a torn last line recognised.
///
/// ```
/// 1c2d3e4f switchback-offset-map 1 dc-a dc-b
/// 5a6b7c8d m orders 3 1200 7 1000000        mapped: topic partition sourceStart targetStart count
/// 9e0f1a2b e orders 3 1000050                accounted source end
/// 3c4d5e6f p orders 3 800                    pruned below source offset
/// ```
/// The first field is the CRC-32C (8 lowercase hex digits) of the rest of the line after the
/// space. Text rather than binary: a range costs ~40 bytes either way once offsets grow, and an
/// operator can read the file with `less` during an incident.
enum OffsetMapFileFormat {
    static let magic = "switchback-offset-map"
    static let version = 1

    static func headerLine(for flow: FlowID) -> [UInt8] {
        line("\(magic) \(version) \(flow.source) \(flow.target)")
    }

    static func line(for update: OffsetMapUpdate) -> [UInt8] {
        let partition = "\(update.partition.topic) \(update.partition.partition)"
        switch update.change {
        case .mapped(let range):
            return line("m \(partition) \(range.sourceStart) \(range.targetStart) \(range.count)")
        case .sourceEnd(let end):
            return line("e \(partition) \(end)")
        case .pruned(let below):
            return line("p \(partition) \(below)")
        case .removed:
            // The file holds the map itself, rewritten whole at compaction: nothing to remove.
            return []
        }
    }

    /// The whole file for `map`, as compaction writes it.
    static func snapshot(of map: OffsetMap) -> [UInt8] {
        var bytes = headerLine(for: map.flow)
        for update in map.snapshot { bytes += line(for: update) }
        return bytes
    }

    private static func line(_ payload: String) -> [UInt8] {
        let payloadBytes = Array(payload.utf8)
        let crc = String(CRC32C.checksum(payloadBytes), radix: 16)
        return Array((String(repeating: "0", count: 8 - crc.count) + crc + " ").utf8) + payloadBytes + [UInt8(ascii: "\n")]
    }

    /// The payload of a line (without its newline) whose checksum is right, or `nil`.
    static func verifiedPayload(_ line: ArraySlice<UInt8>) -> Substring? {
        guard line.count > 9, line[line.startIndex + 8] == UInt8(ascii: " ") else { return nil }
        var expected: UInt32 = 0
        for byte in line.prefix(8) {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            expected = expected << 4 | UInt32(digit)
        }
        let payload = line.dropFirst(9)
        guard CRC32C.checksum(payload) == expected, let text = String(validating: payload, as: UTF8.self) else { return nil }
        return Substring(text)
    }

    /// The flow named by a header payload, or `nil` when it is not a header of this version.
    static func flow(inHeader payload: Substring) -> FlowID? {
        let fields = payload.split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == 4, fields[0] == magic, fields[1] == "\(version)",
            let source = SiteID(rawValue: String(fields[2])), let target = SiteID(rawValue: String(fields[3]))
        else { return nil }
        return FlowID(from: source, to: target)
    }

    /// The update in a verified payload, or `nil` when the payload is not a valid update line.
    static func update(in payload: Substring, flow: FlowID) -> OffsetMapUpdate? {
        let fields = payload.split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count >= 4, let topic = TopicName(rawValue: String(fields[1])),
            let partitionNumber = parseCanonicalDecimal(fields[2]), let raw = Int32(exactly: partitionNumber),
            let partitionID = PartitionID(rawValue: raw)
        else { return nil }
        let numbers = fields.dropFirst(3).map { parseCanonicalDecimal($0) }
        let change: OffsetMapUpdate.Change
        switch (fields[0], numbers.count) {
        case ("m", 3):
            guard let sourceStart = numbers[0], let targetStart = numbers[1], let count = numbers[2],
                let range = MappedRange(sourceStart: Offset(sourceStart), targetStart: Offset(targetStart), count: count)
            else { return nil }
            change = .mapped(range)
        case ("e", 1):
            guard let end = numbers[0] else { return nil }
            change = .sourceEnd(Offset(end))
        case ("p", 1):
            guard let below = numbers[0] else { return nil }
            change = .pruned(belowSource: Offset(below))
        default:
            return nil
        }
        return OffsetMapUpdate(flow: flow, partition: TopicPartition(topic, partitionID), change: change)
    }
}
