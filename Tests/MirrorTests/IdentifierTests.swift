import Foundation
import Sites
import Testing

@testable import Mirror

@Suite("Identifiers")
struct IdentifierTests {
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
