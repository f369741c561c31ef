import Foundation

/// The runbook routes from the caller's side (`switchback runbook …`).
extension OperatorClient {
    public func runbooks() async throws -> Reply { try await call(.GET, "/v1/runbooks", body: nil) }

    public func runbook(_ name: String) async throws -> Reply { try await call(.GET, "/v1/runbooks/\(try Self.pathSegment(name))", body: nil) }

    public func runRunbook(_ name: String, _ request: RunbookRunRequest) async throws -> Reply {
        try await call(.POST, "/v1/runbooks/\(try Self.pathSegment(name))/run", body: try JSONEncoder().encode(request))
    }

    public func runbookStatus() async throws -> Reply { try await call(.GET, "/v1/runbooks/status", body: nil) }

    public func confirmRunbook(_ request: RunbookConfirmRequest) async throws -> Reply {
        try await call(.POST, "/v1/runbooks/confirm", body: try JSONEncoder().encode(request))
    }

    /// A runbook name as one URL path segment (names are lowercase words; anything else is refused here).
    static func pathSegment(_ name: String) throws -> String {
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw OperatorClientError(message: "'\(name)' is not a runbook name (lowercase letters, digits and '-'); see switchback runbook list")
        }
        return name
    }
}
