@testable import Mirror
import Sites

/// Test shorthands: literals that are valid by construction; an invalid one fails the test loudly.
func site(_ name: String) -> SiteID {
    guard let site = SiteID(rawValue: name) else { fatalError("test fixture: invalid site \(name)") }
    return site
}

func topic(_ name: String) -> TopicName {
    guard let topic = TopicName(rawValue: name) else { fatalError("test fixture: invalid topic \(name)") }
    return topic
}

func group(_ name: String) -> ConsumerGroupID {
    guard let group = ConsumerGroupID(rawValue: name) else { fatalError("test fixture: invalid group \(name)") }
    return group
}

func tp(_ name: String, _ partition: PartitionID) -> TopicPartition {
    TopicPartition(topic(name), partition)
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

let dcA = site("dc-a")
let dcB = site("dc-b")
let dcC = site("dc-c")
