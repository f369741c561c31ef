/// `status_page:` — who may read the agent's HTML status page at `/`.
public enum StatusPageAccess: String, Sendable, Hashable {
    /// Behind the operator token, like the other operator routes (the default). A browser
    /// sends it as the password of HTTP basic authentication (any user name).
    case operatorToken = "operator"
    /// Anyone who can reach the agent: the page shows no secrets, only what `/v1/status` and
    /// the audit log say. For labs and networks where the agents' address is private.
    case `public`
}

extension ConfigurationParser {
    func parseStatusPage(_ value: YAMLValue?) throws(ConfigurationError) -> StatusPageAccess {
        try value?.choice([("operator", .operatorToken), ("public", .public)]) ?? .operatorToken
    }
}
