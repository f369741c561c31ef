import Sites

/// The provenance headers on every mirrored record, and the rules built on them.
///
/// - `switchback-origin`: the site where the record was first produced. Set on the first hop,
///   kept on every later hop, so a record keeps the site it was born in.
/// - `switchback-source`: `site/topic/partition/offset` of the record this copy was made from
///   (the last hop only). The flow resumes from it and the offset map can be rebuilt from it.
///
/// Header values from a cluster are hostile input: parsing is strict and never traps.
public enum Provenance {
    /// Header key of the origin site.
    public static let originKey = "switchback-origin"
    /// Header key of the source position of this copy.
    public static let sourceKey = "switchback-source"

    /// What a record carries under one provenance key.
    public enum Header<Value: Hashable & Sendable>: Hashable, Sendable {
        /// The key is not there.
        case absent
        /// One well-formed value (or several identical ones).
        case present(Value)
        /// The key is there but its value is unusable: null, unparsable, or conflicting repeats.
        case malformed(MirrorError)

        /// The value when well formed.
        public var value: Value? {
            if case .present(let value) = self { return value }
            return nil
        }
    }

    /// The origin site a record carries.
    public static func origin(in headers: [RecordHeader]) -> Header<SiteID> {
        header(originKey, in: headers) { bytes throws(MirrorError) in
            guard let text = String(validating: bytes, as: UTF8.self), let site = SiteID(rawValue: text) else {
                let shown = String(decoding: bytes.prefix(100), as: UTF8.self)
                throw MirrorError(.malformedHeader, "\(originKey) header \"\(shown)\" is not a valid site name")
            }
            return site
        }
    }

    /// The source position a record carries.
    public static func source(in headers: [RecordHeader]) -> Header<SourcePosition> {
        header(sourceKey, in: headers) { bytes throws(MirrorError) in try SourcePosition(headerValue: bytes) }
    }

    private static func header<Value>(
        _ key: String, in headers: [RecordHeader], parse: ([UInt8]) throws(MirrorError) -> Value
    ) -> Header<Value> {
        var found: Value?
        for header in headers where header.key == key {
            guard let bytes = header.value else {
                return .malformed(MirrorError(.malformedHeader, "\(key) header has a null value"))
            }
            let value: Value
            do {
                value = try parse(bytes)
            } catch {
                return .malformed(error)
            }
            if let earlier = found, earlier != value {
                return .malformed(
                    MirrorError(.malformedHeader, "\(key) header appears twice with different values"))
            }
            found = value
        }
        return found.map { .present($0) } ?? .absent
    }

    /// Whether a record may be copied to `targetSite`: never when it was born there.
    ///
    /// A record whose origin header is malformed was not written by Switchback (the mirror only
    /// writes well-formed headers), so it was born at the source; it is copied and
    /// ``headersForCopy(existing:sourceSite:topic:partition:offset:)`` replaces the bad header.
    public static func shouldCopy(recordHeaders: [RecordHeader], to targetSite: SiteID) -> Bool {
        origin(in: recordHeaders).value != targetSite
    }

    /// The headers for the copy of a record read at `sourceSite`/`topic`/`partition`/`offset`.
    ///
    /// Other headers keep their order; the provenance headers are appended, exactly one of each.
    /// A well-formed origin is kept (the record keeps its birth site); an absent or malformed
    /// one becomes `sourceSite`. Any previous `switchback-source` is replaced by this hop.
    public static func headersForCopy(
        existing: [RecordHeader], sourceSite: SiteID, topic: TopicName, partition: PartitionID, offset: Offset
    ) -> [RecordHeader] {
        let origin = origin(in: existing).value ?? sourceSite
        var headers = existing.filter { $0.key != originKey && $0.key != sourceKey }
        headers.append(RecordHeader(key: originKey, value: Array(origin.rawValue.utf8)))
        let position = SourcePosition(site: sourceSite, topic: topic, partition: partition, offset: offset)
        headers.append(RecordHeader(key: sourceKey, value: position.headerValue))
        return headers
    }
}
