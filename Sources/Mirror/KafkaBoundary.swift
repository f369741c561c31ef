import KafkaClient

// KafkaClient and Mirror each have identifier types of their own (Mirror's are validated; the
// client's take whatever a cluster sends). Conversions live here, at the one boundary, so the
// rest of the mirror speaks Mirror's types. Names from a cluster are hostile input: a name
// Mirror cannot hold converts to `nil` and the caller reports or skips it.

extension TopicName {
    /// The client's name for this topic.
    var kafka: KafkaClient.TopicName { KafkaClient.TopicName(rawValue) }

    /// A topic name from a cluster, or `nil` when it is not a legal Kafka topic name.
    init?(kafka name: KafkaClient.TopicName) {
        self.init(rawValue: name.rawValue)
    }
}

extension PartitionID {
    var kafka: KafkaClient.Partition { KafkaClient.Partition(rawValue) }

    init?(kafka partition: KafkaClient.Partition) {
        self.init(rawValue: partition.rawValue)
    }
}

extension TopicPartition {
    var kafka: KafkaClient.TopicPartition { KafkaClient.TopicPartition(topic.kafka, partition.kafka) }

    init?(kafka partition: KafkaClient.TopicPartition) {
        guard let topic = TopicName(kafka: partition.topic), let number = PartitionID(kafka: partition.partition) else {
            return nil
        }
        self.init(topic, number)
    }
}

extension Offset {
    var kafka: KafkaClient.Offset { KafkaClient.Offset(rawValue) }

    init(kafka offset: KafkaClient.Offset) {
        self.init(offset.rawValue)
    }
}

extension ConsumerGroupID {
    var kafka: KafkaClient.GroupID { KafkaClient.GroupID(rawValue) }

    init?(kafka group: KafkaClient.GroupID) {
        self.init(rawValue: group.rawValue)
    }
}

extension RecordHeader {
    init(kafka header: KafkaHeader) {
        self.init(key: header.key, value: header.value)
    }

    var kafka: KafkaHeader { KafkaHeader(key: key, value: value) }
}

extension KafkaRecord {
    /// The record's headers as the mirror's core reads them.
    var mirrorHeaders: [RecordHeader] { headers.map(RecordHeader.init(kafka:)) }
}
