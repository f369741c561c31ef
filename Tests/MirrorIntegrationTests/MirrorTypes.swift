import Mirror

// The module `Mirror` shares its name with the standard library's `Mirror` type, so
// `Mirror.TopicName` does not resolve. Files that import KafkaClient too use these names.
typealias MirrorTopicName = TopicName
typealias MirrorTopicPartition = TopicPartition
typealias MirrorOffset = Offset
typealias MirrorGroupID = ConsumerGroupID

/// The Mirror partition `topic`/`partition` (test literals, known valid).
func mirrorPartition(_ topic: String, _ partition: Int32) -> TopicPartition {
    TopicPartition(TopicName(rawValue: topic)!, PartitionID(rawValue: partition)!)
}
