import Sites

/// Where a mirrored copy was made from: `site/topic/partition/offset`, the value of the
/// `switchback-source` header (for example `dc-a/orders/3/1200`).
public struct SourcePosition: Hashable, Sendable, CustomStringConvertible {
    public var site: SiteID
    public var topic: TopicName
    public var partition: PartitionID
    public var offset: Offset

    public init(site: SiteID, topic: TopicName, partition: PartitionID, offset: Offset) {
        self.site = site
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    /// The header text. Neither site names nor topic names can contain `/`, so it is unambiguous.
    public var description: String { "\(site)/\(topic)/\(partition)/\(offset)" }

    /// The header value bytes (UTF-8).
    public var headerValue: [UInt8] { Array(description.utf8) }

    /// Parses a header value strictly: valid UTF-8, exactly four `/`-separated fields, a valid
    /// site and topic, and canonical non-negative decimal numbers (no sign, no leading zeros).
    /// - Throws: ``MirrorError/Code/malformedHeader`` saying which field is wrong.
    public init(headerValue bytes: [UInt8]) throws(MirrorError) {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw Self.malformed(bytes, "it is not valid UTF-8")
        }
        let fields = text.split(separator: "/", omittingEmptySubsequences: false)
        guard fields.count == 4 else {
            throw Self.malformed(bytes, "expected site/topic/partition/offset, found \(fields.count) field(s)")
        }
        guard let site = SiteID(rawValue: String(fields[0])) else {
            throw Self.malformed(bytes, "\"\(fields[0])\" is not a valid site name")
        }
        guard let topic = TopicName(rawValue: String(fields[1])) else {
            throw Self.malformed(bytes, "\"\(fields[1])\" is not a valid topic name")
        }
        guard let partitionNumber = parseCanonicalDecimal(fields[2]),
            let partitionValue = Int32(exactly: partitionNumber),
            let partition = PartitionID(rawValue: partitionValue)
        else {
            throw Self.malformed(bytes, "partition \"\(fields[2])\" is not a non-negative 32-bit decimal")
        }
        guard let offset = parseCanonicalDecimal(fields[3]) else {
            throw Self.malformed(bytes, "offset \"\(fields[3])\" is not a non-negative 64-bit decimal")
        }
        self.init(site: site, topic: topic, partition: partition, offset: Offset(offset))
    }

    private static func malformed(_ bytes: [UInt8], _ problem: String) -> MirrorError {
        let shown = String(decoding: bytes.prefix(300), as: UTF8.self)
        return MirrorError(.malformedHeader, "\(Provenance.sourceKey) header \"\(shown)\" is malformed: \(problem)")
    }
}

/// A canonical non-negative decimal (`0` or `[1-9][0-9]*`) that fits in `Int64`, or `nil`.
func parseCanonicalDecimal(_ text: Substring) -> Int64? {
    let digits = text.utf8
    guard let first = digits.first, digits.count <= 19 else { return nil }
    if first == UInt8(ascii: "0") && digits.count > 1 { return nil }
    var value: Int64 = 0
    for byte in digits {
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
        let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
        let (sum, overflow2) = shifted.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
        if overflow1 || overflow2 { return nil }
        value = sum
    }
    return value
}
