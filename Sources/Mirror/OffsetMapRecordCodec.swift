import Sites

/// Encodes offset-map updates as records of the internal offset-map topic on the target cluster.
///
/// Key (UTF-8, readable with kcat): `source/target/topic/partition/kind[/sourceStart]`, e.g.
/// `dc-a/dc-b/orders/3/m/1200`, `dc-a/dc-b/orders/3/e`, `dc-a/dc-b/orders/3/p`.
/// Value (binary, big-endian): `version:u8 = 1`, `kind:u8` (`1` mapped, `2` sourceEnd,
/// `3` pruned), then for mapped `sourceStart:i64 targetStart:i64 count:i64` (26 bytes), for the
/// others one `i64` (10 bytes).
///
/// The keys make the topic safe to run with `cleanup.policy=compact` and keep it bounded: a mapped
/// record is a whole range under its source start (a range that grows is stored again under the
/// same key; see ``PartitionOffsetMap/takeChanges()``), a pruned range gets a tombstone, and the
/// accounted end and the prune point are monotonic, so keeping only the latest value per key
/// loses nothing. (Topics written before this format hold one record per stored delta; they
/// load the same, since overlapping ranges must agree, and compaction never reclaims them.)
public enum OffsetMapRecordCodec {
    /// The value format version written.
    public static let version: UInt8 = 1

    /// The record key and value for `update`.
    /// A `removed` change is a tombstone: the key of the range it removes, no value.
    public static func encode(_ update: OffsetMapUpdate) -> (key: [UInt8], value: [UInt8]?) {
        let base = "\(update.flow.source)/\(update.flow.target)/\(update.partition.topic)/\(update.partition.partition)"
        var value: [UInt8] = [version]
        let key: String
        switch update.change {
        case .removed(let start):
            return (Array("\(base)/m/\(start)".utf8), nil)
        case .mapped(let range):
            key = "\(base)/m/\(range.sourceStart)"
            value.append(1)
            appendInt64(range.sourceStart.rawValue, to: &value)
            appendInt64(range.targetStart.rawValue, to: &value)
            appendInt64(range.count, to: &value)
        case .sourceEnd(let end):
            key = "\(base)/e"
            value.append(2)
            appendInt64(end.rawValue, to: &value)
        case .pruned(let below):
            key = "\(base)/p"
            value.append(3)
            appendInt64(below.rawValue, to: &value)
        }
        return (Array(key.utf8), value)
    }

    /// Decodes a record of the offset-map topic.
    /// - Throws: ``MirrorError/Code/malformedOffsetMap`` saying what is wrong; never traps.
    public static func decode(key: [UInt8], value: [UInt8]) throws(MirrorError) -> OffsetMapUpdate {
        guard let text = String(validating: key, as: UTF8.self) else { throw malformed(key, "key is not UTF-8") }
        let fields = text.split(separator: "/", omittingEmptySubsequences: false)
        guard fields.count == 5 || fields.count == 6 else {
            throw malformed(key, "key must be source/target/topic/partition/kind[/start]")
        }
        guard let source = SiteID(rawValue: String(fields[0])), let target = SiteID(rawValue: String(fields[1])) else {
            throw malformed(key, "key does not start with two valid site names")
        }
        guard let topic = TopicName(rawValue: String(fields[2])) else { throw malformed(key, "invalid topic name") }
        guard let number = parseCanonicalDecimal(fields[3]), let raw = Int32(exactly: number),
            let partition = PartitionID(rawValue: raw)
        else { throw malformed(key, "invalid partition") }

        var reader = BigEndianReader(value)
        guard let valueVersion = reader.uint8(), let kind = reader.uint8() else {
            throw malformed(key, "value is shorter than its 2-byte header")
        }
        guard valueVersion == version else {
            throw malformed(key, "value format version \(valueVersion) is not supported (this build reads \(version))")
        }
        let change: OffsetMapUpdate.Change
        switch (kind, fields[4], fields.count) {
        case (1, "m", 6):
            guard let sourceStart = reader.int64(), let targetStart = reader.int64(), let count = reader.int64() else {
                throw malformed(key, "mapped value is shorter than 26 bytes")
            }
            guard let range = MappedRange(sourceStart: Offset(sourceStart), targetStart: Offset(targetStart), count: count) else {
                throw malformed(key, "range source \(sourceStart) target \(targetStart) count \(count) is not valid")
            }
            guard parseCanonicalDecimal(fields[5]) == sourceStart else {
                throw malformed(key, "key start \(fields[5]) differs from value start \(sourceStart)")
            }
            change = .mapped(range)
        case (2, "e", 5):
            guard let end = reader.int64(), end >= 0 else { throw malformed(key, "source end missing or negative") }
            change = .sourceEnd(Offset(end))
        case (3, "p", 5):
            guard let below = reader.int64(), below >= 0 else { throw malformed(key, "prune point missing or negative") }
            change = .pruned(belowSource: Offset(below))
        default:
            throw malformed(key, "value kind \(kind) does not match key kind \"\(fields[4])\"")
        }
        guard reader.isAtEnd else { throw malformed(key, "value has trailing bytes") }
        return OffsetMapUpdate(flow: FlowID(from: source, to: target), partition: TopicPartition(topic, partition), change: change)
    }

    private static func malformed(_ key: [UInt8], _ problem: String) -> MirrorError {
        let shown = String(decoding: key.prefix(300), as: UTF8.self)
        return MirrorError(.malformedOffsetMap, "offset-map record with key \"\(shown)\" is malformed: \(problem); "
            + "it is skipped — if this repeats, check what else writes to the offset-map topic")
    }
}

func appendInt64(_ value: Int64, to bytes: inout [UInt8]) {
    let bits = UInt64(bitPattern: value)
    for shift in stride(from: 56, through: 0, by: -8) {
        bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift)))
    }
}

/// Reads big-endian integers from bytes, returning `nil` instead of reading past the end.
struct BigEndianReader {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { index == bytes.count }

    mutating func uint8() -> UInt8? {
        guard index < bytes.count else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func int64() -> Int64? {
        guard bytes.count - index >= 8 else { return nil }
        var bits: UInt64 = 0
        for byte in bytes[index..<(index + 8)] { bits = bits << 8 | UInt64(byte) }
        index += 8
        return Int64(bitPattern: bits)
    }
}
