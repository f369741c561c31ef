import KafkaWire

/// Topic administration: create, delete, grow, trim, and topic configs.
extension BrokerCore {
    /// Kafka's resource type codes in DescribeConfigs/AlterConfigs.
    enum ConfigResourceType: Int8 {
        case topic = 2
        case broker = 4
    }

    func createTopics(_ request: CreateTopicsRequest) -> CreateTopicsResponse {
        CreateTopicsResponse(topics: request.topics.map { topic in
            let failure: (KafkaErrorCode, String)? = {
                guard topic.replicationFactor == -1 || topic.replicationFactor == 1 || !topic.assignments.isEmpty else {
                    return (.invalidReplicationFactor, "replication factor \(topic.replicationFactor) is impossible on LocalKafka's single broker; use 1 or -1")
                }
                if !topic.assignments.isEmpty, topic.numPartitions != -1 {
                    return (.invalidRequest, "give either a partition count or replica assignments, not both")
                }
                if topic.assignments.contains(where: { $0.brokerIds != [Self.nodeID] }) {
                    return (.invalidReplicaAssignment, "every replica assignment must be [\(Self.nodeID)], LocalKafka's only broker")
                }
                return nil
            }()
            if let (code, message) = failure {
                return .init(name: topic.name, errorCode: code.rawValue, errorMessage: message)
            }
            let partitions = !topic.assignments.isEmpty ? topic.assignments.count
                : topic.numPartitions == -1 ? configuration.defaultPartitions : Int(topic.numPartitions)
            var configs: [String: String] = [:]
            for config in topic.configs {
                guard let value = config.value else { continue }
                configs[config.name] = value
            }
            do throws(StorageError) {
                if request.validateOnly {
                    // A dry run checks all that a real creation would (name, count, configs).
                    try store.validateNewTopic(topic.name, partitions: partitions, configs: configs)
                    return .init(name: topic.name, errorCode: 0)
                }
                _ = try store.createTopic(topic.name, partitions: partitions, configs: configs)
                return .init(name: topic.name, errorCode: 0)
            } catch {
                return .init(name: topic.name, errorCode: error.kafkaCode.rawValue, errorMessage: error.message)
            }
        })
    }

    func deleteTopics(_ request: DeleteTopicsRequest) -> DeleteTopicsResponse {
        DeleteTopicsResponse(responses: request.topicNames.map { name in
            do throws(StorageError) {
                try store.deleteTopic(name)
                logger.info("deleted topic", metadata: ["topic": "\(name)"])
                return .init(name: name, errorCode: 0)
            } catch {
                return .init(name: name, errorCode: error.kafkaCode.rawValue)
            }
        })
    }

    func createPartitions(_ request: CreatePartitionsRequest) -> CreatePartitionsResponse {
        CreatePartitionsResponse(results: request.topics.map { topic in
            guard let current = store.topic(topic.name) else {
                return .init(name: topic.name, errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue,
                             errorMessage: "topic \(topic.name) does not exist")
            }
            guard Int(topic.count) > current.partitionCount else {
                return .init(name: topic.name, errorCode: KafkaErrorCode.invalidPartitions.rawValue,
                             errorMessage: "topic \(topic.name) has \(current.partitionCount) partitions; the new count \(topic.count) must be larger")
            }
            if request.validateOnly { return .init(name: topic.name, errorCode: 0) }
            do throws(StorageError) {
                try store.createPartitions(topic.name, totalCount: Int(topic.count))
                logger.info("grew topic", metadata: ["topic": "\(topic.name)", "partitions": "\(topic.count)"])
                return .init(name: topic.name, errorCode: 0)
            } catch {
                return .init(name: topic.name, errorCode: error.kafkaCode.rawValue, errorMessage: error.message)
            }
        })
    }

    func deleteRecords(_ request: DeleteRecordsRequest) -> DeleteRecordsResponse {
        DeleteRecordsResponse(topics: request.topics.map { topic in
            .init(name: topic.name, partitions: topic.partitions.map { partition in
                guard let log = store.partition(topic.name, partition.partitionIndex) else {
                    return .init(partitionIndex: partition.partitionIndex, lowWatermark: -1,
                                 errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue)
                }
                // -1 means "up to the high watermark", as in Kafka.
                let before = partition.offset == -1 ? log.logEndOffset : partition.offset
                do throws(StorageError) {
                    let start = try log.deleteRecords(before: before)
                    return .init(partitionIndex: partition.partitionIndex, lowWatermark: start, errorCode: 0)
                } catch {
                    return .init(partitionIndex: partition.partitionIndex, lowWatermark: -1, errorCode: error.kafkaCode.rawValue)
                }
            })
        })
    }

    func describeConfigs(_ request: DescribeConfigsRequest) -> DescribeConfigsResponse {
        DescribeConfigsResponse(results: request.resources.map { resource in
            switch ConfigResourceType(rawValue: resource.resourceType) {
            case .topic:
                guard let entries = store.effectiveConfigs(resource.resourceName) else {
                    return .init(errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue,
                                 errorMessage: "topic \(resource.resourceName) does not exist",
                                 resourceType: resource.resourceType, resourceName: resource.resourceName)
                }
                let wanted = resource.configurationKeys.map(Set.init)
                let configs = entries.filter { wanted?.contains($0.name) ?? true }.map { entry in
                    DescribeConfigsResponse.DescribeConfigsResult.DescribeConfigsResourceResult(
                        name: entry.name, value: entry.value, readOnly: entry.readOnly, isDefault: entry.isDefault,
                        configSource: entry.isDefault ? ConfigSource.defaultConfig : ConfigSource.dynamicTopicConfig,
                        isSensitive: entry.isSensitive
                    )
                }
                return .init(errorCode: 0, resourceType: resource.resourceType, resourceName: resource.resourceName, configs: configs)
            case .broker:
                // LocalKafka has no dynamic broker configs to report.
                return .init(errorCode: 0, resourceType: resource.resourceType, resourceName: resource.resourceName, configs: [])
            case nil:
                return .init(errorCode: KafkaErrorCode.invalidRequest.rawValue,
                             errorMessage: "resource type \(resource.resourceType) is not served; LocalKafka describes topics (2) and brokers (4)",
                             resourceType: resource.resourceType, resourceName: resource.resourceName)
            }
        })
    }

    func alterConfigs(_ request: AlterConfigsRequest) -> AlterConfigsResponse {
        AlterConfigsResponse(responses: request.resources.map { resource in
            let result = alterTopic(resource.resourceType, resource.resourceName) { () throws(StorageError) in
                var configs: [String: String] = [:]
                for config in resource.configs {
                    if let value = config.value { configs[config.name] = value }
                }
                if request.validateOnly {
                    try store.validateConfigs(configs)
                } else {
                    try store.alterConfigs(resource.resourceName, replacingWith: configs)
                }
            }
            return .init(errorCode: result.code.rawValue, errorMessage: result.message,
                         resourceType: resource.resourceType, resourceName: resource.resourceName)
        })
    }

    func incrementalAlterConfigs(_ request: IncrementalAlterConfigsRequest) -> IncrementalAlterConfigsResponse {
        IncrementalAlterConfigsResponse(responses: request.resources.map { resource in
            let result = alterTopic(resource.resourceType, resource.resourceName) { () throws(StorageError) in
                let operations = try resource.configs.map { config throws(StorageError) -> ConfigOperation in
                    switch (config.configOperation, config.value) {
                    case (0, let value?): ConfigOperation(key: config.name, .set(value))
                    case (1, _): ConfigOperation(key: config.name, .delete)
                    case (2, let value?): ConfigOperation(key: config.name, .append(value))
                    case (3, let value?): ConfigOperation(key: config.name, .subtract(value))
                    default:
                        throw StorageError(.invalidConfig(key: config.name, value: config.value, reason: "operation \(config.configOperation)"),
                                           "config \(config.name): operation \(config.configOperation) with value \(config.value ?? "null") is invalid; use 0 SET, 1 DELETE, 2 APPEND or 3 SUBTRACT with a value")
                    }
                }
                if request.validateOnly {
                    _ = try store.configsAfter(operations, on: resource.resourceName)
                } else {
                    try store.incrementalAlterConfigs(resource.resourceName, operations: operations)
                }
            }
            return .init(errorCode: result.code.rawValue, errorMessage: result.message,
                         resourceType: resource.resourceType, resourceName: resource.resourceName)
        })
    }

    /// Runs `change` (an alteration, or its dry run for `validateOnly`) on an existing topic.
    private func alterTopic(
        _ type: Int8, _ name: String, _ change: () throws(StorageError) -> Void
    ) -> (code: KafkaErrorCode, message: String?) {
        guard ConfigResourceType(rawValue: type) == .topic else {
            return (.invalidRequest, "only topic configs (resource type 2) can be altered on LocalKafka")
        }
        guard store.topic(name) != nil else {
            return (.unknownTopicOrPartition, "topic \(name) does not exist")
        }
        do throws(StorageError) {
            try change()
            logger.info("altered topic configs", metadata: ["topic": "\(name)"])
            return (.none, nil)
        } catch {
            return (error.kafkaCode, error.message)
        }
    }
}

/// Kafka's config source codes in DescribeConfigs v1+.
enum ConfigSource {
    static let dynamicTopicConfig: Int8 = 1
    static let defaultConfig: Int8 = 5
}
