import Foundation
import Testing

@testable import Mirror

@Suite("Identifiers")
struct IdentifierTests {
    @Test("valid site names are accepted", arguments: ["dc-a", "a", "0", "eu-west-1", String(repeating: "x", count: 63)])
    func validSites(name: String) throws {
        let site = try SiteID(validating: name)
        #expect(site.rawValue == name)
        #expect(SiteID(rawValue: name) == site)
    }

    @Test("invalid site names are rejected with the bad value in the message",
          arguments: ["", "DC-A", "dc_a", "dc.a", "dc/a", "dc a", "dé", String(repeating: "x", count: 64)])
    func invalidSites(name: String) {
        #expect(SiteID(rawValue: name) == nil)
        do {
            _ = try SiteID(validating: name)
            Issue.record("accepted \(name)")
        } catch {
            #expect(error.code == .invalidIdentifier)
            #expect(error.message.contains("\"\(name)\""))
        }
    }

    @Test("topic names follow Kafka's rule")
    func topicNames() {
        #expect(TopicName(rawValue: "orders") != nil)
        #expect(TopicName(rawValue: "dc-a.orders_v2-x") != nil)
        #expect(TopicName(rawValue: String(repeating: "t", count: 249)) != nil)
        #expect(TopicName(rawValue: String(repeating: "t", count: 250)) == nil)
        #expect(TopicName(rawValue: "a/b") == nil)
        #expect(TopicName(rawValue: "a b") == nil)
        #expect(TopicName(rawValue: ".") == nil)
        #expect(TopicName(rawValue: "..") == nil)
        #expect(TopicName(rawValue: "") == nil)
        #expect(topic("__consumer_offsets").isInternal)
        #expect(!topic("_orders").isInternal)
    }

    @Test("partitions are never negative; groups never empty")
    func partitionsAndGroups() {
        #expect(PartitionID(rawValue: -1) == nil)
        #expect(PartitionID(rawValue: 0) == 0)
        #expect(ConsumerGroupID(rawValue: "") == nil)
        #expect(group("__switchback-mirror").isInternal)
    }

    @Test("Codable round-trips and validates on decode")
    func codable() throws {
        let position = tp("orders", 3)
        let data = try JSONEncoder().encode(position)
        #expect(String(decoding: data, as: UTF8.self) == #"{"partition":3,"topic":"orders"}"#
            || String(decoding: data, as: UTF8.self) == #"{"topic":"orders","partition":3}"#)
        #expect(try JSONDecoder().decode(TopicPartition.self, from: data) == position)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(SiteID.self, from: Data(#""DC A""#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(PartitionID.self, from: Data("-2".utf8)) }
        #expect(try JSONDecoder().decode(SiteID.self, from: Data(#""dc-a""#.utf8)) == dcA)
    }
}
