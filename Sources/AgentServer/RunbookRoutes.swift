import Foundation
import Hummingbird
import Orchestrator

/// The operator API of the runbook engine (`switchback runbook …`): list, show, run (or dry
/// run), status and confirm. Every route needs the operator token, like `/v1/status`.
///
/// Status codes: 404 for an unknown runbook, 409 when another run is in progress (the message
/// names it) or no question waits for the answer given, 422 for a malformed runbook file or a
/// bad parameter, 400 for a malformed body.
public struct RunbookRoutes: Sendable {
    let runner: RunbookRunner
    let authorize: @Sendable (Request) -> Response?

    public init(runner: RunbookRunner, authorize: @escaping @Sendable (Request) -> Response?) {
        self.runner = runner
        self.authorize = authorize
    }

    /// Adds the routes under `/v1/runbooks`.
    public func add(to router: Router<AgentRequestContext>) {
        router.get("/v1/runbooks") { request, _ in
            try await guarded(request) {
                json(try await runner.runbooks().map(RunbookSummary.init))
            }
        }
        router.get("/v1/runbooks/status") { request, _ in
            try await guarded(request) { json(RunbookStatusReply(run: await runner.status())) }
        }
        router.post("/v1/runbooks/confirm") { request, _ in
            try await guarded(request) {
                let body: RunbookConfirmRequest = try await decodeBody(request)
                guard let answer = ConfirmationAnswer(rawValue: body.answer) else {
                    throw APIError(.badRequest, "answer '\(body.answer)' is not yes, no or skip")
                }
                try await runner.answer(step: body.step, answer, by: body.by ?? "operator API")
                return json(RunbookStatusReply(run: await runner.status()))
            }
        }
        router.get("/v1/runbooks/{name}") { request, context in
            try await guarded(request) {
                json(RunbookDetail(try await runner.runbook(named: context.parameters.get("name") ?? "")))
            }
        }
        router.post("/v1/runbooks/{name}/run") { request, context in
            try await guarded(request) {
                let name = context.parameters.get("name") ?? ""
                let body: RunbookRunRequest = try await decodeBody(request)
                if body.dryRun ?? false {
                    return json(RunbookRunReply(plan: try await runner.plan(name, parameters: body.params ?? [:]), run: nil))
                }
                let status = try await runner.start(name, parameters: body.params ?? [:], assumeYes: body.yes ?? false, by: body.by ?? "operator API")
                return json(RunbookRunReply(plan: nil, run: status))
            }
        }
    }

    private func guarded(_ request: Request, _ body: () async throws -> Response) async throws -> Response {
        if let refusal = authorize(request) { return refusal }
        do {
            return try await body()
        } catch let error as APIError {
            return error.response
        } catch let error as RunbookError {
            return APIError(Self.status(error.code), error.message).response
        }
    }

    static func status(_ code: RunbookError.Code) -> HTTPResponse.Status {
        switch code {
        case .notFound: .notFound
        case .busy, .noQuestion: .conflict
        case .malformed, .invalidParameter: .unprocessableContent
        default: .internalServerError
        }
    }

    private func decodeBody<T: Decodable>(_ request: Request) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: AgentAPI.maxBody)
        } catch {
            throw APIError(.contentTooLarge, "the body is larger than \(AgentAPI.maxBody) bytes")
        }
        let data = Data(buffer.readableBytesView)
        do {
            return try JSONDecoder().decode(T.self, from: data.isEmpty ? Data("{}".utf8) : data)
        } catch {
            throw APIError(.badRequest, "malformed JSON body: \(error)")
        }
    }
}

import NIOCore
