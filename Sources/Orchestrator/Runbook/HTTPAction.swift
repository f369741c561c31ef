import AsyncHTTPClient
import Foundation
import NIOCore

/// `http`: one HTTP request (a load-balancer switch, a DNS API, a smoke test), succeeding when
/// the status is the one expected (any 2xx by default). Not idempotent by default: a crash
/// inside it stops the run for an operator unless the step says `idempotent: true` (a PUT).
public struct HTTPAction: StepAction {
    public let name = "http"
    /// How many bytes of the response body are kept as the `body` output.
    public static let bodyLimit = 16 * 1024
    private let client: HTTPClient

    public init(client: HTTPClient = .shared) { self.client = client }

    public var idempotency: StepIdempotency { .once }

    public var parameterSpecs: [StepParameterSpec]? {
        [
            .init("url", required: true, "http:// or https:// address"),
            .init("method", "GET (default), POST, PUT, DELETE…"),
            .init("body", "the request body"),
            .init("content_type", "the body's Content-Type (default application/json)"),
            .init("expect_status", "the status that means success (default: any 2xx)"),
        ]
    }

    public func plan(_ context: StepContext) async throws -> StepPlan {
        let request = try Self.request(context.parameters)
        return StepPlan(summary: "\(request.method.rawValue) \(request.url)", changes: ["\(request.method.rawValue) \(request.url)"])
    }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        let outputs = try await perform(context)
        let status = Int(outputs["status"] ?? "") ?? 0
        guard outputs["ok"] == "true" else {
            throw StepActionError(.failed, "\(context.parameters["url"] ?? "") answered \(status); body: \(outputs["body", default: ""].prefix(300))", retriable: true)
        }
        return StepOutcome(summary: "\(context.parameters["method"] ?? "GET") \(context.parameters["url"] ?? "") answered \(status)", outputs: outputs)
    }

    /// Sends the request; outputs `status`, `body` (bounded) and `ok` (the status was the one expected).
    func perform(_ context: StepContext) async throws -> [String: String] {
        let request = try Self.request(context.parameters)
        let expected = try context.parameters["expect_status"].map { _ throws(StepActionError) in try context.parameters.int("expect_status") }
        let timeout = TimeAmount.nanoseconds(Int64((context.timeout ?? .seconds(30)).components.seconds) * 1_000_000_000)
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: timeout)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw StepActionError(.failed, "\(request.method.rawValue) \(request.url) failed: \(error)", retriable: true)
        }
        let body = (try? await response.body.collect(upTo: Self.bodyLimit)) ?? ByteBuffer()
        let status = Int(response.status.code)
        let ok = expected.map { $0 == status } ?? (200..<300).contains(status)
        return ["status": String(status), "body": String(buffer: body), "ok": String(ok)]
    }

    static func request(_ parameters: StepParameters) throws(StepActionError) -> HTTPClientRequest {
        let url = try parameters.string("url")
        guard let parsed = URL(string: url), let scheme = parsed.scheme, ["http", "https"].contains(scheme), parsed.host != nil else {
            throw .parameter("url", "is '\(url)', expected an http:// or https:// address")
        }
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: parameters.string("method", default: "GET").uppercased())
        if let body = parameters["body"] {
            request.body = .bytes(ByteBuffer(string: body))
            request.headers.add(name: "Content-Type", value: parameters.string("content_type", default: "application/json"))
        }
        return request
    }
}
