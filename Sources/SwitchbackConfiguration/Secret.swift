import Foundation

/// A secret value from the configuration (a password, a shared key, a token).
///
/// Its `description` is `***`, and encoding it writes `***`, so it cannot leak into logs,
/// status output or audit records by interpolation. Read the value with ``revealed()`` only
/// where it is used (an HMAC key, a librdkafka property).
public struct Secret: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible, Encodable {
    /// Where the value came from (shown instead of the value).
    public let source: SecretSource
    private let value: String

    public init(_ value: String, source: SecretSource) {
        self.value = value
        self.source = source
    }

    /// The secret itself. Never log or return it.
    public func revealed() -> String { value }

    public var description: String { "***" }
    public var debugDescription: String { "Secret(\(source), ***)" }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode("***")
    }
}

/// Where a secret's value comes from: `{ env: NAME }`, `{ file: PATH }` or written inline.
public enum SecretSource: Hashable, Sendable, CustomStringConvertible {
    case environment(String)
    case file(String)
    /// Written in the configuration file itself: allowed for Kafka properties with a
    /// warning, refused for the agent's own credentials.
    case inline

    public var description: String {
        switch self {
        case .environment(let name): "env \(name)"
        case .file(let path): "file \(path)"
        case .inline: "inline"
        }
    }
}

/// Reads secrets from the environment and from files; injectable so tests need no real
/// environment variables.
public struct SecretResolver: Sendable {
    public var environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// The value of `source`, or an error naming the variable or file and the key it is for.
    func resolve(_ source: SecretSource, inline: String?, keyPath: String, line: Int?) throws(ConfigurationError) -> Secret {
        switch source {
        case .inline:
            return Secret(inline ?? "", source: .inline)
        case .environment(let name):
            guard let value = environment[name] else {
                throw ConfigurationError(
                    .unresolvedSecret, keyPath: keyPath,
                    problem: "environment variable \(name) is not set",
                    fix: "export \(name) in the agent's environment (systemd: Environment= or EnvironmentFile=)", line: line)
            }
            guard !value.isEmpty else {
                throw ConfigurationError(
                    .unresolvedSecret, keyPath: keyPath, problem: "environment variable \(name) is empty",
                    fix: "set \(name) to the secret value", line: line)
            }
            return Secret(value, source: source)
        case .file(let path):
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: path))
            } catch {
                throw ConfigurationError(
                    .unresolvedSecret, keyPath: keyPath,
                    problem: "secret file \(path) cannot be read (\((error as NSError).localizedDescription))",
                    fix: "create the file and make it readable by the agent's user (mode 0400)", line: line)
            }
            // A trailing newline is how editors and `echo` leave files; it is never part of a key.
            let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
            guard !value.isEmpty else {
                throw ConfigurationError(
                    .unresolvedSecret, keyPath: keyPath, problem: "secret file \(path) is empty",
                    fix: "write the secret into \(path)", line: line)
            }
            return Secret(value, source: source)
        }
    }
}
