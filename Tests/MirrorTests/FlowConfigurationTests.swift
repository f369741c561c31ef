import Testing

@testable import Mirror

@Suite("Flow configuration")
struct FlowConfigurationTests {
    func configuration(properties: [String: String]) throws -> FlowConfiguration {
        FlowConfiguration(
            source: FlowEndpoint(site: site("dc-a"), bootstrapServers: ["a:9092"], properties: properties),
            target: FlowEndpoint(site: site("dc-b"), bootstrapServers: ["b:9092"], properties: properties),
            naming: TopicNaming(knownSites: [site("dc-a"), site("dc-b")]), topics: try TopicSelection(),
            groups: try GroupSelection(), dataDirectory: "/var/lib/switchback/")
    }

    @Test("raw properties cannot turn off the producer guarantees the mirror rests on")
    func enforcedProducerProperties() throws {
        let producer = try configuration(properties: [
            "enable.idempotence": "false", "acks": "1", "security.protocol": "SASL_SSL",
        ]).producerConfiguration.librdkafkaProperties
        #expect(producer["enable.idempotence"] == "true")
        #expect(producer["acks"] == "all")
        #expect(producer["security.protocol"] == "SASL_SSL")
    }

    @Test("names of the offset-map topic and cache file")
    func names() throws {
        let flow = try configuration(properties: [:])
        #expect(flow.offsetMapTopic.rawValue == "__switchback.offsets.dc-a.dc-b")
        #expect(flow.offsetMapTopic.isInternal)
        #expect(flow.offsetMapFilePath == "/var/lib/switchback/offsets-dc-a-dc-b.map")
    }
}
