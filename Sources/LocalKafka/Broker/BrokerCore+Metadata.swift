import KafkaWire

/// Metadata, FindCoordinator and InitProducerId: what clients ask before they produce or consume.
extension BrokerCore {
    /// The only node of this cluster.
    static let nodeID: Int32 = 0
    /// Kafka's "authorized operations not requested" marker.
    static let operationsNotRequested = Int32.min

    func metadata(_ request: MetadataRequest, version: Int16) -> MetadataResponse {
        // v0 uses an empty list for "all topics"; v1+ uses null.
        let requested: [String]? = {
            guard let topics = request.topics else { return nil }
            if version == 0 && topics.isEmpty { return nil }
            return topics.map(\.name)
        }()
        let mayCreate = configuration.autoCreateTopics && (version < 4 || request.allowAutoTopicCreation)
        let topics: [MetadataResponse.MetadataResponseTopic]
        if let requested {
            topics = requested.map { name in
                if store.topic(name) == nil && mayCreate {
                    autoCreate(name)
                }
                return topicMetadata(name)
            }
        } else {
            topics = store.topics.map { topicMetadata($0.name) }
        }
        return MetadataResponse(
            brokers: [.init(nodeId: Self.nodeID, host: advertisedHost, port: advertisedPort, rack: nil)],
            clusterId: clusterID,
            controllerId: Self.nodeID,
            topics: topics,
            clusterAuthorizedOperations: Self.operationsNotRequested
        )
    }

    private func autoCreate(_ name: String) {
        do {
            _ = try store.createTopic(name, partitions: configuration.defaultPartitions, configs: [:])
            logger.info("auto-created topic", metadata: ["topic": "\(name)", "partitions": "\(configuration.defaultPartitions)"])
        } catch {
            // The topic's metadata entry reports the reason (invalid name, etc.).
            logger.debug("auto-create refused", metadata: ["topic": "\(name)", "reason": "\(error)"])
        }
    }

    private func topicMetadata(_ name: String) -> MetadataResponse.MetadataResponseTopic {
        guard let topic = store.topic(name) else {
            let code: KafkaErrorCode = (try? TopicName.validate(name)) != nil ? .unknownTopicOrPartition : .invalidTopicException
            return .init(errorCode: code.rawValue, name: name, isInternal: false, partitions: [],
                         topicAuthorizedOperations: Self.operationsNotRequested)
        }
        let partitions = (0..<Int32(topic.partitionCount)).map { index in
            MetadataResponse.MetadataResponseTopic.MetadataResponsePartition(
                errorCode: 0, partitionIndex: index, leaderId: Self.nodeID, leaderEpoch: 0,
                replicaNodes: [Self.nodeID], isrNodes: [Self.nodeID], offlineReplicas: []
            )
        }
        return .init(errorCode: 0, name: name, isInternal: name.hasPrefix("__"), partitions: partitions,
                     topicAuthorizedOperations: Self.operationsNotRequested)
    }

    func findCoordinator(_ request: FindCoordinatorRequest) -> FindCoordinatorResponse {
        // The single broker coordinates every group.
        FindCoordinatorResponse(errorCode: 0, errorMessage: nil, nodeId: Self.nodeID, host: advertisedHost, port: advertisedPort)
    }

    func initProducerId(_ request: InitProducerIdRequest) -> InitProducerIdResponse {
        if let transactionalId = request.transactionalId, !transactionalId.isEmpty {
            return transactionalInitProducerId(TransactionalID(transactionalId), timeoutMs: request.transactionTimeoutMs)
        }
        do {
            return InitProducerIdResponse(errorCode: 0, producerId: try store.allocateProducerId(), producerEpoch: 0)
        } catch {
            logger.error("cannot allocate a producer id", metadata: ["error": "\(error)"])
            return InitProducerIdResponse(errorCode: KafkaErrorCode.kafkaStorageError.rawValue, producerId: -1, producerEpoch: -1)
        }
    }
}
