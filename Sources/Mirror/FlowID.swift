import Sites

/// A flow: copies topics from the `source` site's cluster to the `target` site's cluster.
public struct FlowID: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var source: SiteID
    public var target: SiteID

    public init(from source: SiteID, to target: SiteID) {
        self.source = source
        self.target = target
    }

    public static func < (lhs: FlowID, rhs: FlowID) -> Bool { (lhs.source, lhs.target) < (rhs.source, rhs.target) }

    /// `dc-a→dc-b`.
    public var description: String { "\(source)→\(target)" }
}
