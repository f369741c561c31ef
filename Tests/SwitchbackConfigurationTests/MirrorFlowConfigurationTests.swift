import Mirror
import SwitchbackConfiguration
import Testing

/// The configuration file → the flows `switchback mirror` and `switchback offsets` run.
@Suite("Mirror flows from the configuration")
struct MirrorFlowConfigurationTests {
    @Test("auto: one flow from the other member site into this one, with both clusters and the selection")
    func autoFlowComesFromTheOtherSite() throws {
        let configuration = try parse(minimal.replacingOccurrences(of: "site: dc-a", with: "site: dc-b") + """
            mirror:
              policy: identity
              topics: { include: ["orders"] }
            """)
        let routes = try configuration.flowsIntoThisSite()
        #expect(routes.map { "\($0.from)→\($0.to)" } == ["dc-a→dc-b"])
        let flow = try configuration.flowConfiguration(try #require(routes.first))
        #expect(flow.source.bootstrapServers == ["127.0.0.1:9092"])
        #expect(flow.target.bootstrapServers == ["127.0.0.1:9093"])
        #expect(flow.naming.policy == .identity)
        #expect(flow.topics.selects(try TopicName(validating: "orders")))
        #expect(!flow.topics.selects(try TopicName(validating: "payments")))
        #expect(flow.offsetMapTopic.rawValue == "__switchback.offsets.dc-a.dc-b")
    }

    @Test("a fixed list: only the flows that end at this site run here")
    func fixedFlowsEndingHere() throws {
        let configuration = try parse(minimal + """
            mirror:
              flows: [{ from: dc-a, to: dc-b }, { from: dc-b, to: dc-a }]
            """)
        #expect(try configuration.flowsIntoThisSite().map { "\($0.from)→\($0.to)" } == ["dc-b→dc-a"])
    }

    @Test("no flow into this site, or auto on a witness: an error naming mirror.flows and the fix")
    func noFlowIsAnError() throws {
        let oneWay = try parse(minimal + """
            mirror:
              flows: [{ from: dc-a, to: dc-b }]
            """)
        #expect(throws: ConfigurationError.self) { try oneWay.flowsIntoThisSite() }
        do {
            _ = try oneWay.flowsIntoThisSite()
        } catch {
            #expect(error.keyPath == "mirror.flows")
            #expect(error.fix.contains("to: dc-a"))
        }
    }
}
