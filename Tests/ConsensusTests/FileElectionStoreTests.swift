import Consensus
import Foundation
import Testing

@Suite("FileElectionStore")
struct FileElectionStoreTests {
    /// A fresh directory under the system temp directory, removed afterwards.
    func withTemporaryDirectory(_ body: (String) throws -> Void) throws {
        let path = NSTemporaryDirectory() + "election-store-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    let sample = ElectionState(
        currentEpoch: Epoch(7), votedFor: "witness",
        committed: SiteConfig(
            epoch: Epoch(6), activeSite: "dc-b", mirrorDirection: MirrorDirection(from: "dc-b", to: "dc-a"),
            cause: .automaticFailover),
        accepted: nil, maintenance: MaintenanceMark(enabled: true, stamp: 3, by: "agent-a"),
        acknowledgedEpoch: Epoch(6))

    @Test func firstStartHasNoState() throws {
        try withTemporaryDirectory { directory in
            let loaded = try FileElectionStore(directory: directory).load()
            #expect(loaded == nil)
        }
    }

    @Test func savedStateLoadsBackAndLeavesNoTemporaryFile() throws {
        try withTemporaryDirectory { directory in
            let store = FileElectionStore(directory: directory)
            try store.save(Fixture.initialState)
            try store.save(sample)
            #expect(try store.load() == sample)
            let files = try FileManager.default.contentsOfDirectory(atPath: directory)
            #expect(files.sorted() == ["election.json", "election.json.voted"], "the state and the marker that it existed")
            // A second store on the same file (a restarted agent) reads the same.
            #expect(try FileElectionStore(path: store.path).load() == sample)
        }
    }

    @Test func corruptedFileIsAClearErrorNamingTheFile() throws {
        try withTemporaryDirectory { directory in
            let store = FileElectionStore(directory: directory)
            try Data("{\"formatVersion\": 1, \"state\": {\"currentEpoch\": ".utf8).write(to: URL(fileURLWithPath: store.path))
            let error = try #require(throws: ElectionStoreError.self) { try store.load() }
            #expect(error.code == .corrupted)
            #expect(error.path == store.path)
            #expect(error.description.contains(store.path))
            #expect(error.message.contains("restore it from a backup"))
            #expect(!error.isRetriable)
        }
    }

    @Test func unknownFormatVersionIsRefused() throws {
        try withTemporaryDirectory { directory in
            let store = FileElectionStore(directory: directory)
            try store.save(sample)
            let text = try String(contentsOfFile: store.path, encoding: .utf8)
                .replacingOccurrences(of: "\"formatVersion\" : 1", with: "\"formatVersion\" : 99")
            try Data(text.utf8).write(to: URL(fileURLWithPath: store.path))
            let error = try #require(throws: ElectionStoreError.self) { try store.load() }
            #expect(error.code == .unsupportedVersion)
        }
    }

    @Test func savingIntoAMissingDirectoryFailsWithTheReason() throws {
        try withTemporaryDirectory { directory in
            let store = FileElectionStore(directory: directory + "/missing")
            let error = try #require(throws: ElectionStoreError.self) { try store.save(sample) }
            #expect(error.code == .writeFailed)
            #expect(error.message.contains("exists and is writable"))
        }
    }
}

@Suite("Peer message coding")
struct PeerMessageCodingTests {
    @Test func everyMessageSurvivesJSON() throws {
        let config = Fixture.initialConfig
        let round = LeaseRound(incarnation: 42, sequence: 7)
        let bodies: [PeerMessage.Body] = [
            .heartbeat(
                Heartbeat(
                    currentEpoch: Epoch(3), committed: config, accepted: config, downSites: ["dc-a"],
                    servingActive: true, maintenance: .off, acknowledgedEpoch: Epoch(1))),
            .voteRequest(VoteRequest(proposal: config, base: config, override: SafetyOverride(ignoreHealth: true))),
            .voteResponse(
                VoteResponse(
                    epoch: Epoch(4), candidate: "agent-b", granted: true, leaseRemaining: .milliseconds(1500), voterEpoch: Epoch(4),
                    voterCommitted: config, reason: "granted")),
            .commitRequest(CommitRequest(config: config)),
            .commitAck(CommitAck(epoch: Epoch(4), accepted: false, voterEpoch: Epoch(5))),
            .leaseRequest(LeaseRequest(config: config, round: round, duration: .seconds(4))),
            .leaseAck(LeaseAck(epoch: Epoch(4), round: round, granted: true, voterEpoch: Epoch(4), duration: .seconds(2))),
        ]
        for body in bodies {
            let message = PeerMessage(from: "witness", body: body)
            let data = try JSONEncoder().encode(message)
            #expect(try JSONDecoder().decode(PeerMessage.self, from: data) == message)
        }
    }

    @Test func statusSurvivesJSONForTheOperatorAPI() throws {
        var clock = ManualClock()
        var election = try Drive.election(Fixture.agentA)
        _ = Drive.run(&election, clock: &clock, for: .seconds(2), healthy: [Fixture.siteA])
        let status = election.status(now: clock.now)
        #expect(status.sites.map(\.site) == [Fixture.siteA, Fixture.siteB])
        #expect(status.sites[1].subjectivelyDown)
        #expect(status.leaseHolder == Fixture.agentA)
        let data = try JSONEncoder().encode(status)
        #expect(try JSONDecoder().decode(ElectionStatus.self, from: data) == status)
    }

    @Test func malformedInputThrowsInsteadOfCrashing() {
        for text in ["", "{}", "{\"from\":\"a\",\"body\":{\"unknown\":{}}}", "{\"from\":1}", "[[[["] {
            #expect(throws: (any Error).self) { try JSONDecoder().decode(PeerMessage.self, from: Data(text.utf8)) }
        }
    }
}
