import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import SidecarClient
import Synchronization
import Testing

/// A loopback agent stand-in that answers `/v1/active` from a script of answers, honouring the
/// long-poll parameters the way the agent does (answer at once when the epoch is above `after`
/// or the state differs from `state`, otherwise wait for the next change). A fake, because what
/// is tested here is the client's handling of answers — including hostile ones a real agent
/// never sends. The client against real agents is tested end to end in AgentServerTests.
final class ScriptedSidecar: Sendable {
    private let answer = Mutex<(body: String, epoch: UInt64, state: String, version: Int)>(("", 0, "", 0))
    let requests = Mutex<[String]>([])

    func set(epoch: UInt64, site: String, state: String, servers: String) {
        let body = #"{"epoch":\#(epoch),"activeSite":"\#(site)","bootstrapServers":[\#(servers)],"state":"\#(state)","# +
            #""servingHere":false,"since":"2026-12-02T00:00:00Z","mirrorFrom":"dc-a","mirrorTo":"dc-b"}"#
        answer.withLock { $0 = (body, epoch, state, $0.version + 1) }
    }

    func run<T: Sendable>(_ body: @Sendable (Int) async throws -> T) async throws -> T {
        let router = Router()
        router.get("/v1/active") { request, _ -> Response in
            self.requests.withLock { $0.append(request.uri.description) }
            let query = request.uri.queryParameters
            let start = self.answer.withLock { $0 }
            let changed = query.get("after").flatMap(UInt64.init).map { start.epoch > $0 } ?? true
                || query.get("state").map { $0 != start.state } ?? false
            if query.get("wait") != nil, !changed {
                let deadline = ContinuousClock.now + .seconds(2)
                while ContinuousClock.now < deadline, self.answer.withLock({ $0.version }) == start.version {
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            let current = self.answer.withLock { $0.body }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: current)))
        }
        let port = Mutex<Int?>(nil)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in port.withLock { $0 = channel.localAddress?.port } })
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await app.run(); return nil }
            let deadline = ContinuousClock.now + .seconds(10)
            while port.withLock({ $0 }) == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            guard let bound = port.withLock({ $0 }) else { throw SidecarError("the scripted sidecar did not start") }
            let result = try await body(bound)
            group.cancelAll()
            return result
        }
    }
}

@Suite("Sidecar client", .timeLimit(.minutes(1)))
struct ActiveSiteFollowerTests {
    @Test("the follower reports each change of epoch and state, in order, and long-polls with after and state")
    func followsChanges() async throws {
        let sidecar = ScriptedSidecar()
        sidecar.set(epoch: 0, site: "dc-a", state: "serving", servers: #""a:9092""#)
        let seen = try await sidecar.run { port in
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            let follower = ActiveSiteFollower(agent: "http://127.0.0.1:\(port)", client: client, wait: .seconds(2))
            var seen: [ActiveSite] = []
            for await site in follower.changes() {
                seen.append(site)
                switch seen.count {
                case 1: sidecar.set(epoch: 1, site: "dc-b", state: "promoting", servers: #""b:9092""#)
                case 2: sidecar.set(epoch: 1, site: "dc-b", state: "serving", servers: #""b:9092""#)
                default: break
                }
                if seen.count == 3 { break }
            }
            try await client.shutdown()
            return seen
        }
        #expect(seen.map(\.epoch) == [0, 1, 1])
        #expect(seen.map(\.state) == [.serving, .promoting, .serving])
        #expect(seen[0].isUsable && !seen[1].isUsable && seen[2].isUsable)
        #expect(seen[0].needsNewClients(seen[2]) && !seen[1].needsNewClients(seen[2]))
        let asked = sidecar.requests.withLock { $0 }
        #expect(asked.contains { $0.contains("after=0") && $0.contains("state=serving") })
        #expect(asked.contains { $0.contains("after=1") && $0.contains("state=promoting") })
    }

    @Test("hostile answers are errors that name the field, never a crash",
          arguments: [
            ("not json", "not JSON"), ("[1,2]", "the answer"), (#"{"epoch":-1}"#, "epoch"),
            (#"{"epoch":true,"activeSite":"a","bootstrapServers":[]}"#, "epoch"),
            (#"{"epoch":1,"activeSite":"","bootstrapServers":[]}"#, "activeSite"),
            (#"{"epoch":1,"activeSite":"a","bootstrapServers":"x:1"}"#, "bootstrapServers"),
            (#"{"epoch":1,"activeSite":"a","bootstrapServers":[],"state":"on fire"}"#, "state on fire"),
          ])
    func hostileAnswers(body: String, named: String) {
        do {
            _ = try ActiveSite(json: Array(body.utf8))
            Issue.record("accepted \(body)")
        } catch {
            #expect(error.description.contains(named), "\(error)")
        }
    }

    @Test("an answer without a state (an agent from before the data plane) means serving")
    func stateDefaultsToServing() throws {
        let site = try ActiveSite(json: Array(#"{"epoch":3,"activeSite":"dc-b","bootstrapServers":["b:1"]}"#.utf8))
        #expect(site.state == .serving && site.isUsable)
    }

    @Test("an unreachable agent is an error for one fetch and a retry for the follower")
    func unreachable() async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let follower = ActiveSiteFollower(agent: "http://127.0.0.1:1", client: client, wait: .seconds(1), maxBackoff: .milliseconds(200))
        await #expect(throws: SidecarError.self) { try await follower.current(timeout: .seconds(1)) }
        // The sequence keeps retrying rather than ending: still running after several attempts.
        let ended = Mutex(false)
        let task = Task { () -> Int in
            var count = 0
            for await _ in follower.changes() { count += 1 }
            ended.withLock { $0 = true }
            return count
        }
        try await Task.sleep(for: .milliseconds(600))
        #expect(!ended.withLock { $0 }, "the sequence ended while the agent was unreachable")
        task.cancel()
        #expect(await task.value == 0)
        #expect(ended.withLock { $0 })
        try await client.shutdown()
    }
}
