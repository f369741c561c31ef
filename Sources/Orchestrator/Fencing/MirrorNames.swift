import Mirror

// Mirror and KafkaClient both name their identifiers TopicName, TopicPartition, Offset, and
// `Mirror.` names the standard library's reflection type. Files that use both spell
// KafkaClient's with `KafkaClient.` and Mirror's through these names (this file imports only
// Mirror, so here the plain names are Mirror's).
typealias MirrorTopicName = TopicName
typealias MirrorTopicPartition = TopicPartition
typealias MirrorPartitionID = PartitionID
typealias MirrorOffset = Offset
