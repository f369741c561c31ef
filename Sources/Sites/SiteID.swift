/// The name of a site: a datacenter with its Kafka cluster and its agent, such as `dc-a`.
///
/// One type for the election, the mirror and the configuration. Valid names are 1–63
/// characters of `a-z`, `0-9` and `-`, so they are safe as topic-name prefixes (`dc-a.orders`),
/// inside header values (`dc-a/orders/3/42`) and in DNS-like contexts. Every way of making
/// one from text checks that, decoding included: a site name in a peer message, a record
/// header or an operator request is outside input.
public struct SiteID: RawRepresentable, Hashable, Comparable, Codable, Sendable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public let rawValue: String

    /// The longest site name accepted.
    public static let maxLength = 63

    /// A site ID, or `nil` when `rawValue` is not a valid site name.
    public init?(rawValue: String) {
        guard Self.problem(with: rawValue) == nil else { return nil }
        self.rawValue = rawValue
    }

    /// A site ID, or an error naming the bad value and what is wrong with it.
    public init(validating name: String) throws(InvalidSiteID) {
        if let problem = Self.problem(with: name) { throw InvalidSiteID(name: name, problem: problem) }
        self.rawValue = name
    }

    /// A site written in the source code (`"dc-a"`); a literal that is not a valid name is a
    /// programming error, caught the first time that code runs.
    public init(stringLiteral value: String) {
        guard let site = Self(rawValue: value) else {
            preconditionFailure("invalid site name literal \"\(value)\": \(Self.problem(with: value) ?? "")")
        }
        self = site
    }

    /// Why `name` is not a valid site name, or `nil` when it is.
    public static func problem(with name: String) -> String? {
        let bytes = Array(name.utf8)
        if bytes.isEmpty { return "it is empty; use 1–\(maxLength) characters of a-z, 0-9 and '-'" }
        if bytes.count > maxLength { return "it is \(bytes.count) bytes long; the limit is \(maxLength)" }
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
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public static func < (lhs: SiteID, rhs: SiteID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { rawValue }
}

/// A text that is not a valid site name, and why.
public struct InvalidSiteID: Error, Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public let problem: String

    public var description: String { "invalid site name \"\(name)\": \(problem)" }
}
