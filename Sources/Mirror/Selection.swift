/// Why a name is or is not selected by a ``TopicSelection`` or ``GroupSelection``.
public enum SelectionDecision: Hashable, Sendable, CustomStringConvertible {
    /// Matched an include pattern and no exclude pattern.
    case selected
    /// Kafka's or Switchback's own topic or group (`__…`): never selected, whatever the patterns say.
    case internalName
    /// Matched no include pattern.
    case notIncluded
    /// Matched this exclude pattern.
    case excluded(pattern: String)

    /// Whether the name is selected.
    public var isSelected: Bool { self == .selected }

    public var description: String {
        switch self {
        case .selected: "selected"
        case .internalName: "internal (__*), never selected"
        case .notIncluded: "matches no include pattern"
        case .excluded(let pattern): "excluded by pattern \"\(pattern)\""
        }
    }
}

/// Include and exclude regexes, each matched against the *whole* name (as Kafka and MirrorMaker 2
/// match with Java's `Pattern.matches`): `orders` selects `orders` but not `orders-dlq`.
///
/// Patterns use Swift `Regex` syntax, which agrees with Java's for the constructs topic lists use
/// (`.`, `*`, `+`, `?`, classes, `|`, groups, `\\.`). An empty include list selects nothing.
public struct NamePatterns: Sendable {
    /// The include patterns as written in the configuration.
    public let include: [String]
    /// The exclude patterns as written in the configuration.
    public let exclude: [String]
    private let includeRegexes: [CompiledPattern]
    private let excludeRegexes: [CompiledPattern]

    /// Compiles the patterns; `key` is the configuration key they came from (`mirror.topics`),
    /// used to name the failing entry, as in `mirror.topics.include[1]`.
    public init(include: [String], exclude: [String], key: String) throws(MirrorError) {
        self.include = include
        self.exclude = exclude
        self.includeRegexes = try Self.compile(include, key: "\(key).include")
        self.excludeRegexes = try Self.compile(exclude, key: "\(key).exclude")
    }

    private static func compile(_ patterns: [String], key: String) throws(MirrorError) -> [CompiledPattern] {
        var compiled: [CompiledPattern] = []
        for (index, pattern) in patterns.enumerated() {
            do {
                compiled.append(CompiledPattern(pattern: pattern, regex: try Regex(pattern)))
            } catch {
                throw MirrorError(
                    .invalidPattern,
                    "\(key)[\(index)]: pattern \"\(pattern)\" is not a valid regular expression: \(error); "
                        + "fix or remove this entry")
            }
        }
        return compiled
    }

    /// Whether `name` matches (include, then exclude), ignoring the internal-name rule.
    func decision(forName name: String) -> SelectionDecision {
        guard includeRegexes.contains(where: { $0.matchesWhole(name) }) else { return .notIncluded }
        if let excluded = excludeRegexes.first(where: { $0.matchesWhole(name) }) {
            return .excluded(pattern: excluded.pattern)
        }
        return .selected
    }
}

/// One compiled regex with its source text.
private struct CompiledPattern: @unchecked Sendable {
    // `Regex<AnyRegexOutput>` is immutable once compiled; matching does not mutate it, so sharing
    // it across tasks is safe even though the standard library does not mark it Sendable.
    let pattern: String
    let regex: Regex<AnyRegexOutput>

    func matchesWhole(_ name: String) -> Bool {
        (try? regex.wholeMatch(in: name)) != nil
    }
}

/// Which topics a flow mirrors (configuration key `mirror.topics`).
public struct TopicSelection: Sendable {
    /// The compiled include/exclude patterns.
    public let patterns: NamePatterns

    /// Selects topics matching any of `include` and none of `exclude`; internal topics never.
    /// - Throws: ``MirrorError/Code/invalidPattern`` naming the entry, e.g. `mirror.topics.include[1]`.
    public init(include: [String] = [".*"], exclude: [String] = [], key: String = "mirror.topics")
        throws(MirrorError)
    {
        patterns = try NamePatterns(include: include, exclude: exclude, key: key)
    }

    /// Whether `topic` is mirrored, and why not.
    public func decision(for topic: TopicName) -> SelectionDecision {
        topic.isInternal ? .internalName : patterns.decision(forName: topic.rawValue)
    }

    /// Whether `topic` is mirrored.
    public func selects(_ topic: TopicName) -> Bool { decision(for: topic).isSelected }
}

/// Which consumer groups have their offsets translated (configuration key `mirror.groups`).
///
/// Groups starting with `__` are never selected; Switchback's own consumer groups (the flow's
/// group on the source cluster) use the `__switchback-` prefix for that reason.
public struct GroupSelection: Sendable {
    /// The compiled include/exclude patterns.
    public let patterns: NamePatterns

    /// Selects groups matching any of `include` and none of `exclude`; internal groups never.
    /// - Throws: ``MirrorError/Code/invalidPattern`` naming the entry, e.g. `mirror.groups.exclude[0]`.
    public init(include: [String] = [".*"], exclude: [String] = [], key: String = "mirror.groups")
        throws(MirrorError)
    {
        patterns = try NamePatterns(include: include, exclude: exclude, key: key)
    }

    /// Whether `group` is translated, and why not.
    public func decision(for group: ConsumerGroupID) -> SelectionDecision {
        group.isInternal ? .internalName : patterns.decision(forName: group.rawValue)
    }

    /// Whether `group` is translated.
    public func selects(_ group: ConsumerGroupID) -> Bool { decision(for: group).isSelected }
}
