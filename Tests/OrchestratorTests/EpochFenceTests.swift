import Consensus
import Orchestrator
import Testing

@Suite("Epoch fence")
struct EpochFenceTests {
    @Test("actions for the newest epoch are admitted again; an older epoch is refused with both epochs named")
    func olderEpochRefused() throws {
        var fence = EpochFence()
        try fence.admit(Epoch(3), action: "promote")
        try fence.admit(Epoch(3), action: "promote")
        try fence.admit(Epoch(5), action: "fence-site")
        #expect(fence.newest == Epoch(5))
        #expect(throws: StaleEpoch(action: "promote", epoch: Epoch(4), newest: Epoch(5))) {
            try fence.admit(Epoch(4), action: "promote")
        }
        #expect(fence.newest == Epoch(5))
        let message = StaleEpoch(action: "promote", epoch: Epoch(4), newest: Epoch(5)).description
        #expect(message.contains("epoch 4") && message.contains("epoch 5"))
    }
}
