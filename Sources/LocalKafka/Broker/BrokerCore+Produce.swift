import KafkaWire
import NIOCore

/// Produce: validate and append record batches, then wake fetches waiting for them.
extension BrokerCore {
    /// Answers a Produce; nil for `acks=0`, which Kafka never answers.
    func produce(_ request: ProduceRequest) -> ProduceResponse? {
        let acksValid = [0, 1, -1].contains(request.acks)
        var responses: [ProduceResponse.TopicProduceResponse] = []
        var appended: [PartitionKey] = []
        for topic in request.topicData {
            var partitions: [ProduceResponse.TopicProduceResponse.PartitionProduceResponse] = []
            for data in topic.partitionData {
                guard acksValid else {
                    partitions.append(.init(index: data.index, errorCode: KafkaErrorCode.invalidRequiredAcks.rawValue, baseOffset: -1,
                                            errorMessage: "acks must be 0, 1 or -1 (all), not \(request.acks)"))
                    continue
                }
                if request.acks == -1, let refusal = checkInSyncReplicas(topic: topic.name, partition: data.index) {
                    partitions.append(.init(index: data.index, errorCode: KafkaErrorCode.notEnoughReplicas.rawValue, baseOffset: -1,
                                            errorMessage: refusal))
                    continue
                }
                if let records = data.records,
                    let refusal = checkTransactionalProduce(records, transactionalId: request.transactionalId, topic: topic.name, partition: data.index)
                {
                    logger.debug("transactional produce refused", metadata: ["topic": "\(topic.name)", "partition": "\(data.index)", "reason": "\(refusal)"])
                    partitions.append(.init(index: data.index, errorCode: refusal.code.rawValue, baseOffset: -1, errorMessage: refusal.message))
                    continue
                }
                partitions.append(append(data, topic: topic.name))
                if partitions.last?.errorCode == 0 {
                    appended.append(PartitionKey(topic: topic.name, partition: data.index))
                }
            }
            responses.append(.init(name: topic.name, partitionResponses: partitions))
        }
        wakeFetches(for: appended)
        return request.acks == 0 ? nil : ProduceResponse(responses: responses)
    }

    /// Why an `acks=all` produce to the partition is refused for lack of in-sync replicas, as in
    /// Kafka: the partition's in-sync replica set (here always the one broker) is smaller than
    /// the topic's `min.insync.replicas`. `acks=1` and `acks=0` are not checked, as in Kafka:
    /// the leader alone acknowledges them, so a raised `min.insync.replicas` does not stop them.
    private func checkInSyncReplicas(topic: String, partition: Int32) -> String? {
        guard let log = store.partition(topic, partition) else { return nil }
        let required = log.settings.minInsyncReplicas
        guard Self.inSyncReplicaCount < required else { return nil }
        return "the in-sync replica set of \(topic)-\(partition) has \(Self.inSyncReplicaCount) replica, fewer than its "
            + "min.insync.replicas \(required); acks=all produces are refused until min.insync.replicas is lowered"
    }

    /// LocalKafka is one broker: every partition has exactly one replica, always in sync.
    static var inSyncReplicaCount: Int { 1 }

    private func append(_ data: ProduceRequest.TopicProduceData.PartitionProduceData, topic: String)
        -> ProduceResponse.TopicProduceResponse.PartitionProduceResponse
    {
        guard let log = store.partition(topic, data.index) else {
            return .init(index: data.index, errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue, baseOffset: -1,
                         errorMessage: "topic \(topic) partition \(data.index) does not exist")
        }
        guard let records = data.records, records.readableBytes > 0 else {
            return .init(index: data.index, errorCode: KafkaErrorCode.corruptMessage.rawValue, baseOffset: -1,
                         errorMessage: "produce request carries no record batch")
        }
        let now = nowMs
        // Stamped before storage validates, which sees exactly what it stores.
        let batches = log.settings.logAppendTime ? LogAppendTimeStamp.stamp(records, nowMs: now) : records
        do {
            let result = try log.append(batches, nowMs: now)
            return .init(index: data.index, errorCode: 0, baseOffset: result.baseOffset,
                         logAppendTimeMs: result.logAppendTimeMs, logStartOffset: result.logStartOffset)
        } catch {
            logger.debug("produce refused", metadata: ["topic": "\(topic)", "partition": "\(data.index)", "reason": "\(error)"])
            return .init(index: data.index, errorCode: error.kafkaCode.rawValue, baseOffset: -1,
                         logStartOffset: log.logStartOffset, errorMessage: error.message)
        }
    }
}
