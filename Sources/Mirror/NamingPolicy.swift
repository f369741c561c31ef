import Sites

/// How a flow names a source topic at the target site.
public enum NamingPolicy: String, Hashable, Codable, Sendable, CaseIterable {
    /// `orders` at `dc-a` becomes `dc-a.orders` at the target (the default). Loop-free by name:
    /// a topic whose site prefixes include the target site is never mirrored there.
    case prefix
    /// Same name on both sides. Loops are prevented by the `switchback-origin` header, not by
    /// name (see ``Provenance``); the flow shares its target topics with local producers.
    case identity
}

/// Why a source topic is not mirrored to a target site.
public enum TopicNotMirroredReason: Hashable, Sendable, CustomStringConvertible {
    /// Kafka's or Switchback's own topic (`__…`).
    case internalTopic
    /// Source and target are the same site.
    case sameSite
    /// The topic's site prefixes show it already came from the target site (for example
    /// `dc-b.orders` at `dc-a`, or `dc-c.dc-b.orders`); mirroring it there would make a loop.
    case cameFromTarget(SiteID)
    /// The prefixed name would exceed Kafka's 249-character limit.
    case targetNameTooLong(String)

    public var description: String {
        switch self {
        case .internalTopic:
            "internal topic (__*), never mirrored"
        case .sameSite:
            "source and target are the same site"
        case .cameFromTarget(let site):
            "topic came from \(site) (by its name); mirroring it back would loop"
        case .targetNameTooLong(let name):
            "target name \"\(name)\" would be \(name.utf8.count) characters; Kafka allows \(TopicName.maxLength)"
        }
    }
}

/// What a flow does with one source topic.
public enum TopicNamingDecision: Hashable, Sendable {
    /// Mirror into this topic at the target.
    case mirror(as: TopicName)
    /// Do not mirror, for this reason.
    case notMirrored(TopicNotMirroredReason)
}

/// Names topics across sites under a ``NamingPolicy``.
///
/// Only names of *known* sites count as prefixes, so `payments.eu` (no site called `payments`)
/// is an ordinary topic and becomes `dc-a.payments.eu`.
///
/// Chained hops (a topic that already carries another site's prefix) are prefixed again, as
/// MirrorMaker 2's `DefaultReplicationPolicy` does: `dc-c.orders` at `dc-a` becomes
/// `dc-a.dc-c.orders` at `dc-b`. Mirroring it "as is" would make `dc-c.orders` at `dc-b` the
/// target of two flows (dc-c→dc-b directly and dc-a→dc-b), breaking the rule that a flow is the
/// only writer of its target partitions — which exactly-once resume depends on. Prefixing again
/// keeps every (source site, source topic) on its own target topic, and the whole prefix chain
/// is checked for the target site, so a ring dc-a→dc-b→dc-c→dc-a stops before closing.
public struct TopicNaming: Hashable, Sendable {
    /// The policy in force.
    public var policy: NamingPolicy
    /// Every site of the deployment; only these names count as topic prefixes.
    public var knownSites: Set<SiteID>

    /// Separates a site prefix from the rest of the name (site names cannot contain it).
    public static let separator: Character = "."

    public init(policy: NamingPolicy = .prefix, knownSites: Set<SiteID>) {
        self.policy = policy
        self.knownSites = knownSites
    }

    /// What to do with `sourceTopic` at `sourceSite` for a flow to `targetSite`.
    public func decision(for sourceTopic: TopicName, from sourceSite: SiteID, to targetSite: SiteID)
        -> TopicNamingDecision
    {
        if sourceTopic.isInternal { return .notMirrored(.internalTopic) }
        if sourceSite == targetSite { return .notMirrored(.sameSite) }
        switch policy {
        case .identity:
            return .mirror(as: sourceTopic)
        case .prefix:
            if sitePrefixes(of: sourceTopic).contains(targetSite) {
                return .notMirrored(.cameFromTarget(targetSite))
            }
            let name = "\(sourceSite.rawValue)\(Self.separator)\(sourceTopic.rawValue)"
            guard let target = TopicName(rawValue: name) else {
                return .notMirrored(.targetNameTooLong(name))
            }
            return .mirror(as: target)
        }
    }

    /// The target topic for `sourceTopic`, or `nil` when it must not be mirrored
    /// (``decision(for:from:to:)`` gives the reason).
    public func targetTopic(for sourceTopic: TopicName, from sourceSite: SiteID, to targetSite: SiteID)
        -> TopicName?
    {
        if case .mirror(let target) = decision(for: sourceTopic, from: sourceSite, to: targetSite) {
            return target
        }
        return nil
    }

    /// The source topic that the flow `sourceSite → targetSite` mirrors into `targetTopic`, or
    /// `nil` when that flow never writes `targetTopic` (used to translate offsets on failback).
    public func sourceTopic(forTarget targetTopic: TopicName, from sourceSite: SiteID, to targetSite: SiteID)
        -> TopicName?
    {
        let candidate: TopicName
        switch policy {
        case .identity:
            candidate = targetTopic
        case .prefix:
            let prefix = "\(sourceSite.rawValue)\(Self.separator)"
            guard targetTopic.rawValue.hasPrefix(prefix),
                let rest = TopicName(rawValue: String(targetTopic.rawValue.dropFirst(prefix.count)))
            else { return nil }
            candidate = rest
        }
        // Only a name the forward direction would produce is a real inverse.
        guard self.targetTopic(for: candidate, from: sourceSite, to: targetSite) == targetTopic else {
            return nil
        }
        return candidate
    }

    /// The chain of known-site prefixes at the start of `topic`: `dc-a.dc-c.orders` → `[dc-a, dc-c]`.
    public func sitePrefixes(of topic: TopicName) -> [SiteID] {
        var prefixes: [SiteID] = []
        var rest = Substring(topic.rawValue)
        while let dot = rest.firstIndex(of: Self.separator) {
            guard let site = SiteID(rawValue: String(rest[..<dot])), knownSites.contains(site) else { break }
            let remainder = rest[rest.index(after: dot)...]
            guard !remainder.isEmpty else { break }
            prefixes.append(site)
            rest = remainder
        }
        return prefixes
    }
}
