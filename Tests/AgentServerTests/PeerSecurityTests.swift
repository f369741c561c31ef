import AgentServer
import Foundation
import Testing

@Suite("Peer signatures and replay window")
struct PeerSecurityTests {
    let signer = PeerSignature(secret: "shared-secret-for-signature-tests")

    @Test("a signature verifies only for the same sender, recipient, time, body and secret")
    func signature() {
        let body = Array("{\"a\":1}".utf8)
        let signature = signer.sign(sender: "dc-a", recipient: "witness", timestamp: 100, body: body)
        #expect(signature.count == 64)
        #expect(signer.verify(signature: signature, sender: "dc-a", recipient: "witness", timestamp: 100, body: body))
        #expect(!signer.verify(signature: signature, sender: "dc-b", recipient: "witness", timestamp: 100, body: body))
        #expect(!signer.verify(signature: signature, sender: "dc-a", recipient: "dc-b", timestamp: 100, body: body))
        #expect(!signer.verify(signature: signature, sender: "dc-a", recipient: "witness", timestamp: 101, body: body))
        #expect(!signer.verify(signature: signature, sender: "dc-a", recipient: "witness", timestamp: 100, body: body + [0x20]))
        #expect(!PeerSignature(secret: "another-secret-altogether-xx").verify(signature: signature, sender: "dc-a", recipient: "witness", timestamp: 100, body: body))
        // The separators cannot be moved between fields to forge another sender or recipient.
        #expect(!signer.verify(signature: signature, sender: "dc-a\nwitness", recipient: "", timestamp: 100, body: body))
        // Malformed signatures are refused, not trapped on.
        #expect(!signer.verify(signature: "zz", sender: "dc-a", recipient: "witness", timestamp: 100, body: body))
        #expect(!signer.verify(signature: String(repeating: "g", count: 64), sender: "dc-a", recipient: "witness", timestamp: 100, body: body))
        #expect(!signer.verify(signature: signature.uppercased() + "00", sender: "dc-a", recipient: "witness", timestamp: 100, body: body))
    }

    @Test("the replay guard admits a message once, inside ±window only")
    func replay() {
        let guardian = ReplayGuard(windowSeconds: 30)
        func admit(_ signature: String, _ timestamp: Int64, now: Int64) -> ReplayGuard.Verdict {
            guardian.admit(signature: signature, sender: "dc-b", recipient: "dc-a", timestamp: timestamp, now: now)
        }
        #expect(admit("s1", 1_000, now: 1_000) == .fresh)
        #expect(admit("s1", 1_000, now: 1_010) == .replayed)
        #expect(admit("s2", 1_000, now: 1_030) == .fresh)
        #expect(admit("s3", 1_000, now: 1_031) == .stale(skewSeconds: 31))
        #expect(admit("s4", 1_040, now: 1_000) == .stale(skewSeconds: -40))
        // Extreme timestamps from the network do not trap.
        #expect(admit("s5", .min, now: 1_000) == .stale(skewSeconds: .max))
        #expect(admit("s6", .max, now: -5) != .fresh)
    }

    @Test("the replay guard knows a signature by its bytes: upper-case hex is the same signature")
    func replayIgnoresHexCase() {
        let guardian = ReplayGuard(windowSeconds: 30)
        let signature = signer.sign(sender: "dc-b", recipient: "dc-a", timestamp: 1_000, body: [1, 2, 3])
        #expect(guardian.admit(signature: signature, sender: "dc-b", recipient: "dc-a", timestamp: 1_000, now: 1_000) == .fresh)
        #expect(guardian.admit(signature: signature.uppercased(), sender: "dc-b", recipient: "dc-a", timestamp: 1_000, now: 1_001) == .replayed)
        var mixed = Array(signature)
        for index in stride(from: 0, to: mixed.count, by: 3) { mixed[index] = Character(mixed[index].uppercased()) }
        #expect(guardian.admit(signature: String(mixed), sender: "dc-b", recipient: "dc-a", timestamp: 1_000, now: 1_002) == .replayed)
    }
}

@Suite("Active configuration board (long-poll)")
struct ActiveConfigBoardTests {
    @Test("a waiter returns at the publish of a newer epoch; older epochs do not wake it")
    func wakesOnNewerEpoch() async {
        let board = ActiveConfigBoard(config: .initial(activeSite: "dc-a", standbySite: "dc-b"))
        let waiter = Task { await board.wait(after: 0, timeout: .seconds(60)) }
        // Re-publishing epoch 0 changes nothing; epoch 1 wakes the waiter.
        board.publish(.initial(activeSite: "dc-b", standbySite: "dc-a"))
        #expect(board.current.config.activeSite == "dc-a")
        board.publish(.init(epoch: .init(1), activeSite: "dc-b", mirrorDirection: .init(from: "dc-b", to: "dc-a"), cause: .operatorFailover))
        let published = await waiter.value
        #expect(published.config.epoch.rawValue == 1)
        #expect(published.config.activeSite == "dc-b")
    }

    @Test("a waiter already behind returns at once; one with nothing new times out with the current epoch")
    func immediateAndTimeout() async {
        let board = ActiveConfigBoard(config: .init(epoch: .init(3), activeSite: "dc-a", mirrorDirection: .init(from: "dc-a", to: "dc-b"), cause: .initial))
        #expect(await board.wait(after: 2, timeout: .seconds(60)).config.epoch.rawValue == 3)
        #expect(await board.wait(after: 3, timeout: .milliseconds(50)).config.epoch.rawValue == 3)
    }

    @Test("a cancelled waiter returns")
    func cancellation() async {
        let board = ActiveConfigBoard(config: .initial(activeSite: "dc-a", standbySite: "dc-b"))
        let waiter = Task { await board.wait(after: 0, timeout: .seconds(60)) }
        waiter.cancel()
        #expect(await waiter.value.config.epoch.rawValue == 0)
    }
}
