import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The sandbox's HTTP calls on loopback (agents' sidecar and operator routes, the brokers'
/// control endpoints), with short timeouts: a paused or cut-off agent must not stall the
/// dashboard or the poller.
public struct LabHTTP: Sendable {
    public struct Answer: Sendable {
        public var status: Int
        public var body: Data
    }

    let client: HTTPClient

    public init(client: HTTPClient) { self.client = client }

    /// The answer, or `nil` when nothing answered within `timeout`.
    public func get(_ url: String, bearer: String? = nil, timeout: Duration = .seconds(1)) async -> Answer? {
        await call(.GET, url, bearer: bearer, body: nil, timeout: timeout)
    }

    public func post(_ url: String, bearer: String? = nil, json: Data? = nil, timeout: Duration = .seconds(5)) async -> Answer? {
        await call(.POST, url, bearer: bearer, body: json, timeout: timeout)
    }

    private func call(_ method: HTTPMethod, _ url: String, bearer: String?, body: Data?, timeout: Duration) async -> Answer? {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await client.execute(request, timeout: .milliseconds(timeout.wholeMilliseconds))
            let buffer = try await response.body.collect(upTo: 8 << 20)
            return Answer(status: Int(response.status.code), body: Data(buffer.readableBytesView))
        } catch {
            return nil
        }
    }
}

extension Duration {
    /// The whole milliseconds in this duration.
    var wholeMilliseconds: Int64 { components.seconds * 1_000 + components.attoseconds / 1_000_000_000_000_000 }

    /// Seconds as a floating-point number, for reports.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
