import AsyncHTTPClient
import Foundation
import NIOCore

/// Sends one webhook request and reports the receiver's status code.
public protocol WebhookTransport: Sendable {
    /// - Throws: when no response arrived (connection refused, timeout, TLS failure).
    func post(_ request: WebhookRequest, timeout: Duration) async throws -> Int
}

/// Sends with AsyncHTTPClient.
public struct HTTPWebhookTransport: WebhookTransport {
    private let client: HTTPClient

    /// - Parameter client: owned by the caller, who shuts it down after the deliveries stop.
    public init(client: HTTPClient) { self.client = client }

    public func post(_ request: WebhookRequest, timeout: Duration) async throws -> Int {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = .POST
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        outgoing.body = .bytes(ByteBuffer(bytes: request.body))
        let milliseconds = Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let response = try await client.execute(outgoing, timeout: .milliseconds(max(1, milliseconds)))
        // Read (and discard, up to a bound) the body so the connection can be reused.
        _ = try? await response.body.collect(upTo: 64 * 1024)
        return Int(response.status.code)
    }
}

/// What to do after an attempt.
enum DeliveryVerdict: Equatable {
    case delivered
    /// Worth another try later: network errors, timeouts, 5xx, 429, 408.
    case retry(String)
    /// A request the receiver will never accept (bad URL, secret or body): retrying cannot help.
    case rejected(Int)

    init(status: Int) {
        switch status {
        case 200..<300: self = .delivered
        case 408, 429, 500...: self = .retry("HTTP \(status)")
        default: self = .rejected(status)
        }
    }
}
