import Mirror
import SwitchbackConfiguration
import Testing

/// `mirror.checkpoint_interval`, `mirror.checkpoint_max_age` and `mirror.topic_refresh_interval` → each flow's settings.
@Suite("Group checkpoint settings from the configuration")
struct CheckpointConfigurationTests {
    static let intoB = minimal.replacingOccurrences(of: "site: dc-a", with: "site: dc-b")

    func flow(_ mirror: String) throws -> FlowConfiguration {
        let configuration = try parse(Self.intoB + mirror)
        return try configuration.flowConfiguration(try #require(try configuration.flowsIntoThisSite().first))
    }

    @Test("defaults: one checkpoint a second, used up to 30 s old")
    func defaults() throws {
        let flow = try flow("")
        #expect(flow.checkpointInterval == .seconds(1))
        #expect(flow.checkpointMaxAge == .seconds(30))
        #expect(flow.provisioningInterval == .seconds(10), "mirror.topic_refresh_interval")
        #expect(flow.checkpointTopic.rawValue == "__switchback.checkpoints.dc-a.dc-b")
        #expect(flow.checkpointFilePath.hasSuffix("/checkpoints-dc-a-dc-b.json"))
    }

    @Test("both set; a long interval raises the default bound to five intervals")
    func configured() throws {
        let both = try flow("mirror: { checkpoint_interval: 500ms, checkpoint_max_age: 12s }\n")
        #expect(both.checkpointInterval == .milliseconds(500))
        #expect(both.checkpointMaxAge == .seconds(12))
        let slow = try flow("mirror: { checkpoint_interval: 10s }\n")
        #expect(slow.checkpointMaxAge == .seconds(50))
    }

    @Test("mirror.topic_refresh_interval sets how often a flow looks for new topics; zero is refused, naming the key")
    func topicRefreshInterval() throws {
        #expect(try flow("mirror: { topic_refresh_interval: 2s }\n").provisioningInterval == .seconds(2))
        let zero = try #require(failure(Self.intoB + "mirror: { topic_refresh_interval: 0s }\n"))
        #expect(zero.keyPath == "mirror.topic_refresh_interval")
    }

    @Test("a zero interval, a bound under two intervals and a misspelt key are refused, naming the key")
    func refused() throws {
        let zero = try #require(failure(Self.intoB + "mirror: { checkpoint_interval: 0s }\n"))
        #expect(zero.keyPath == "mirror.checkpoint_interval")
        let short = try #require(failure(Self.intoB + "mirror: { checkpoint_interval: 5s, checkpoint_max_age: 6s }\n"))
        #expect(short.keyPath == "mirror.checkpoint_max_age")
        #expect("\(short)".contains("two checkpoint intervals"))
        let misspelt = try #require(failure(Self.intoB + "mirror: { checkpoint_intervall: 1s }\n"))
        #expect(misspelt.keyPath == "mirror.checkpoint_intervall")
    }
}
