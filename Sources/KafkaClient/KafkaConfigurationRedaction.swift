/// Decides which configuration properties are secrets, so they never reach a log or a printout.
public enum KafkaConfigurationRedaction {
    /// What a secret value is shown as.
    public static let mask = "***"

    /// Fragments that mark a property as secret: passwords, SASL JAAS and OAuth settings,
    /// private keys and their passphrases, tokens, and inline PEM material.
    static let secretFragments = [
        "password", "secret", "sasl.jaas", "sasl.oauthbearer.config", "ssl.key", "keystore",
        "token", ".pem", "credential", "private",
    ]

    /// Whether the property `key` holds a secret.
    public static func isSecret(_ key: String) -> Bool {
        let lowered = key.lowercased()
        return secretFragments.contains { lowered.contains($0) }
    }

    /// `value`, or the mask if `key` names a secret.
    public static func shown(_ key: String, _ value: String) -> String {
        isSecret(key) ? mask : value
    }

    /// `key=value` pairs sorted by key, secrets masked, for descriptions and logs.
    static func describe(_ properties: [String: String]) -> String {
        properties.sorted { $0.key < $1.key }
            .map { "\($0.key)=\(shown($0.key, $0.value))" }
            .joined(separator: ", ")
    }
}
