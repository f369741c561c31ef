import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The operator API from the caller's side (the `switchback status|maintenance|ack|failover`
/// commands): bearer token, JSON in and out, errors with the agent's own message.
public struct OperatorClient: Sendable {
    public let baseURL: String
    private let token: String
    private let client: HTTPClient
    private let timeout: Duration

    public init(baseURL: String, token: String, client: HTTPClient, timeout: Duration = .seconds(30)) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.token = token
        self.client = client
        self.timeout = timeout
    }

    /// The response body of a successful call, undecoded (for `--json`).
    public struct Reply: Sendable {
        public var body: Data

        public func decode<T: Decodable>(_ type: T.Type) throws -> T {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            return try decoder.decode(type, from: body)
        }
    }

    public func status() async throws -> Reply { try await call(.GET, "/v1/status", body: nil) }

    public func setMaintenance(_ enabled: Bool) async throws -> Reply {
        try await call(.POST, "/v1/maintenance", body: try JSONEncoder().encode(MaintenanceRequest(enabled: enabled)))
    }

    public func acknowledge() async throws -> Reply { try await call(.POST, "/v1/ack", body: Data("{}".utf8)) }

    public func failover(_ request: MoveRequest) async throws -> Reply {
        try await call(.POST, "/v1/failover", body: try JSONEncoder().encode(request))
    }

    public func switchover(to site: String) async throws -> Reply {
        try await call(.POST, "/v1/switchover", body: try JSONEncoder().encode(MoveRequest(to: site)))
    }

    func call(_ method: HTTPMethod, _ path: String, body: Data?) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .milliseconds(timeout.milliseconds))
        } catch {
            let tlsHint = baseURL.lowercased().hasPrefix("https://")
                ? " (https: pass --ca with the CA that issued the agent's certificate, whose names must include the --agent host; --cert/--key if it requires client certificates)"
                : " (an agent with tls serves https:// only)"
            throw OperatorClientError(message: "cannot reach the agent at \(baseURL): \(error); check --agent and that the agent runs\(tlsHint)")
        }
        let buffer = try await response.body.collect(upTo: 16 << 20)
        let data = Data(buffer.readableBytesView)
        guard response.status == .ok else {
            let message = (try? JSONDecoder().decode(ErrorBody.self, from: data).error) ?? String(decoding: data, as: UTF8.self)
            throw OperatorClientError(message: "the agent answered \(response.status.code): \(message)")
        }
        return Reply(body: data)
    }
}

public struct OperatorClientError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
