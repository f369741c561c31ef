/// The name of a site (a datacenter with its Kafka cluster), such as `dc-a`.
///
/// Valid names are 1–63 characters of `a-z`, `0-9` and `-`, so they are safe as topic-name
/// prefixes, in header values (`dc-a/orders/3/42`) and in DNS-like contexts.
///
/// - Note: The Consensus target has its own `SiteID`; the two will be unified into one shared
///   type. This one is deliberately minimal (validation, ordering, coding) to make that easy.
public struct SiteID: RawRepresentable, Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: String

    /// The longest site name accepted.
    public static let maxLength = 63

    /// A site ID, or `nil` when `rawValue` is not a valid site name.
    public init?(rawValue: String) {
        guard Self.problem(with: rawValue) == nil else { return nil }
        self.rawValue = rawValue
    }

    /// A site ID, or an error naming the bad value and what is wrong with it.
    public init(validating name: String) throws(MirrorError) {
        if let problem = Self.problem(with: name) {
            throw MirrorError(.invalidIdentifier, "invalid site name \"\(name)\": \(problem)")
        }
        self.rawValue = name
    }

    /// Why `name` is not a valid site name, or `nil` when it is.
    static func problem(with name: String) -> String? {
        let bytes = Array(name.utf8)
        if bytes.isEmpty { return "it is empty; use 1–\(maxLength) characters of a-z, 0-9 and '-'" }
        if bytes.count > maxLength {
            return "it is \(bytes.count) bytes long; the limit is \(maxLength)"
        }
        for byte in bytes {
            let allowed = (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "-")
            if !allowed { return "only a-z, 0-9 and '-' are allowed" }
        }
        return nil
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        do {
            try self.init(validating: name)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public static func < (lhs: SiteID, rhs: SiteID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { rawValue }
}
