import Consensus
import KafkaClient
import Orchestrator
import Sites
import Testing

/// Fencing a site's producers on its own cluster, over TCP through librdkafka.
@Suite(.serialized, .timeLimit(.minutes(3))) struct SiteFenceTests {
    @Test func fenceRefusesAcksAllAndUnfenceRestoresEveryConfig() async throws {
        try await withFencingLab { lab in
            let a = FencingLab.a
            try await lab.createTopic("orders", at: a, configs: ["retention.ms": "3600000"])
            try await lab.createTopic("payments", at: a, configs: ["min.insync.replicas": "1", "cleanup.policy": "compact"])
            try await lab.createTopic("dc-b.orders", at: a)
            try await lab.produce(["o1", "o2"], to: "orders", at: a)

            let record = try await lab.fence().fence(site: lab.endpoint(a), epoch: Epoch(2))
            #expect(record.state == .fenced)
            #expect(Set(record.previous) == [.init(topic: "orders", value: nil), .init(topic: "payments", value: "1")])
            #expect(record.logEnd(topic: "orders", partition: 0) == 2)
            #expect(record.logEnd(topic: "payments", partition: 0) == 0)

            #expect(try await lab.acksAllRefusal("orders", at: a)?.code == .notEnoughReplicas)
            #expect(try await lab.acksAllRefusal("payments", at: a)?.code == .notEnoughReplicas)
            // acks=1 still lands (Kafka semantics), and a copy from the other site is not fenced.
            try await lab.produce(["leader-acked"], to: "orders", at: a, acks: .leader)
            #expect(try await lab.acksAllRefusal("dc-b.orders", at: a) == nil)
            #expect(try await lab.dynamicConfigs("orders", at: a) == ["retention.ms": "3600000", "min.insync.replicas": "2"])

            // A fresh instance (an agent restarted) unfences from what the cluster remembers.
            let restored = try await lab.fence().unfence(site: lab.endpoint(a), epoch: Epoch(2))
            #expect(restored.state == .unfenced)
            #expect(try await lab.acksAllRefusal("orders", at: a) == nil)
            #expect(try await lab.dynamicConfigs("orders", at: a) == ["retention.ms": "3600000"])
            #expect(try await lab.dynamicConfigs("payments", at: a) == ["min.insync.replicas": "1", "cleanup.policy": "compact"])
            #expect(try await lab.dynamicConfigs("dc-b.orders", at: a) == [:])
        }
    }

    @Test func fencingAgainKeepsTheOriginalValuesAndAnOlderUnfenceIsRefused() async throws {
        try await withFencingLab { lab in
            let a = FencingLab.a
            try await lab.createTopic("orders", at: a, configs: ["min.insync.replicas": "1"])
            let fence = try lab.fence()
            let first = try await fence.fence(site: lab.endpoint(a), epoch: Epoch(2))
            try await lab.produce(["after-fence"], to: "orders", at: a, acks: .leader)
            let again = try await fence.fence(site: lab.endpoint(a), epoch: Epoch(2))
            #expect(again.previous == first.previous)
            // The end at fencing stays the one first recorded, not where acks=1 writes moved it.
            #expect(again.logEnds == first.logEnds)
            let newer = try await fence.fence(site: lab.endpoint(a), epoch: Epoch(3))
            #expect(newer.previous == [.init(topic: "orders", value: "1")])

            do {
                try await fence.unfence(site: lab.endpoint(a), epoch: Epoch(2))
                Issue.record("an older epoch's unfence was admitted after a newer fence")
            } catch let error as FencingError {
                #expect(error.code == .staleEpoch)
                #expect(error.stale?.newest == Epoch(3))
            }
            #expect(try await lab.acksAllRefusal("orders", at: a)?.code == .notEnoughReplicas)

            let plan = try await fence.planUnfence(site: lab.endpoint(a), epoch: Epoch(3))
            #expect(plan.refusal == nil)
            #expect(plan.changes == [.init(topic: "orders", current: "2", planned: "1")])
            try await fence.unfence(site: lab.endpoint(a), epoch: Epoch(3))
            try await fence.unfence(site: lab.endpoint(a), epoch: Epoch(3))
            #expect(try await lab.dynamicConfigs("orders", at: a) == ["min.insync.replicas": "1"])
            #expect(try await lab.acksAllRefusal("orders", at: a) == nil)
            // An older epoch's fence is refused too.
            await #expect(throws: FencingError.self) { try await fence.fence(site: lab.endpoint(a), epoch: Epoch(1)) }
        }
    }

    @Test func planFenceChangesNothing() async throws {
        try await withFencingLab { lab in
            let a = FencingLab.a
            try await lab.createTopic("orders", at: a)
            let plan = try await lab.fence().planFence(site: lab.endpoint(a), epoch: Epoch(1))
            #expect(plan.changes == [.init(topic: "orders", current: nil, planned: "2")])
            #expect(try await lab.dynamicConfigs("orders", at: a) == [:])
            #expect(try await lab.acksAllRefusal("orders", at: a) == nil)
        }
    }
}
