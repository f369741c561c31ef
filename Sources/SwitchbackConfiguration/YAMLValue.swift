import Yams

/// One node of the configuration file with the key path that leads to it, so every error can
/// say where it is. Public so other YAML documents (runbooks) report errors the same way.
public struct YAMLValue {
    public let node: Node
    public let path: String

    public init(node: Node, path: String) {
        self.node = node
        self.path = path
    }

    public var line: Int? { node.mark.map { $0.line } }

    public func error(_ code: ConfigurationError.Code, _ problem: String, fix: String) -> ConfigurationError {
        ConfigurationError(code, keyPath: path, problem: problem, fix: fix, line: line)
    }

    /// What the node is, for "expected a mapping, got a list" messages.
    private var shape: String {
        switch node {
        case .scalar(let scalar): scalar.string.isEmpty ? "nothing" : "the value \"\(scalar.string)\""
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    /// A mapping whose keys must all be in `allowed`.
    public func mapping(allowed: [String]?, example: String) throws(ConfigurationError) -> YAMLMapping {
        guard case .mapping(let mapping) = node else {
            throw error(.wrongType, "expected a mapping, got \(shape)", fix: "write it as \(example)")
        }
        var entries: [(key: String, value: YAMLValue)] = []
        var seen: Set<String> = []
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                throw error(.wrongType, "a key is not a plain name", fix: "use plain names as keys")
            }
            let key = scalar.string
            let childPath = path.isEmpty ? key : "\(path).\(key)"
            guard seen.insert(key).inserted else {
                throw ConfigurationError(
                    .invalidValue, keyPath: childPath, problem: "the key appears twice",
                    fix: "keep one of them", line: keyNode.mark?.line)
            }
            if let allowed, !allowed.contains(key) {
                let suggestion = KeySuggestion.closest(to: key, among: allowed).map { "did you mean '\($0)'? " } ?? ""
                throw ConfigurationError(
                    .unknownKey, keyPath: childPath, problem: "unknown key '\(key)'",
                    fix: "\(suggestion)allowed keys here: \(allowed.joined(separator: ", "))", line: keyNode.mark?.line)
            }
            entries.append((key, YAMLValue(node: valueNode, path: childPath)))
        }
        return YAMLMapping(value: self, entries: entries)
    }

    public func list(example: String) throws(ConfigurationError) -> [YAMLValue] {
        guard case .sequence(let sequence) = node else {
            if isNull { return [] }
            throw error(.wrongType, "expected a list, got \(shape)", fix: "write it as \(example)")
        }
        return sequence.enumerated().map { YAMLValue(node: $1, path: "\(path)[\($0)]") }
    }

    public var isNull: Bool {
        if case .scalar(let scalar) = node { return scalar.style == .plain && (scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null") }
        return false
    }

    public var isScalar: Bool {
        if case .scalar = node { return true }
        return false
    }

    public func string(example: String) throws(ConfigurationError) -> String {
        guard case .scalar(let scalar) = node, !isNull else {
            throw error(.wrongType, "expected a text value, got \(shape)", fix: "write it as \(example)")
        }
        return scalar.string
    }

    public func bool() throws(ConfigurationError) -> Bool {
        let text = try string(example: "true or false")
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error(.wrongType, "expected true or false, got \"\(text)\"", fix: "write true or false")
        }
    }

    public func duration() throws(ConfigurationError) -> Duration {
        let text = try string(example: "a duration such as 250ms, 5s or 10m")
        guard let duration = DurationText.parse(text) else {
            throw error(
                .invalidValue, "\"\(text)\" is not a duration",
                fix: "write a number and a unit (ms, s, m, h, d), for example 250ms, 5s or 10m")
        }
        return duration
    }

    public func positiveDuration() throws(ConfigurationError) -> Duration {
        let value = try duration()
        guard value > .zero else {
            throw error(.invalidValue, "must be longer than zero, got \(DurationText.format(value))", fix: "use a positive duration such as 1s")
        }
        return value
    }

    public func stringList(example: String) throws(ConfigurationError) -> [String] {
        var result: [String] = []
        for item in try list(example: example) { result.append(try item.string(example: example)) }
        return result
    }

    /// One of `choices`, naming them when the value is something else.
    public func choice<T>(_ choices: [(String, T)]) throws(ConfigurationError) -> T {
        let names = choices.map(\.0)
        let text = try string(example: names.joined(separator: " | "))
        guard let match = choices.first(where: { $0.0 == text }) else {
            let suggestion = KeySuggestion.closest(to: text, among: names).map { "did you mean '\($0)'? " } ?? ""
            throw error(.invalidValue, "\"\(text)\" is not allowed", fix: "\(suggestion)use one of: \(names.joined(separator: ", "))")
        }
        return match.1
    }
}

/// The entries of a mapping, in file order, with typed look-ups.
public struct YAMLMapping {
    public let value: YAMLValue
    public let entries: [(key: String, value: YAMLValue)]

    public subscript(key: String) -> YAMLValue? {
        entries.first { $0.key == key && !$0.value.isNull }?.value
    }

    public func required(_ key: String, example: String) throws(ConfigurationError) -> YAMLValue {
        guard let found = self[key] else {
            let path = value.path.isEmpty ? key : "\(value.path).\(key)"
            throw ConfigurationError(.missingKey, keyPath: path, problem: "is required", fix: "add it, for example \(key): \(example)", line: value.line)
        }
        return found
    }
}
