import CRdKafka

/// Topic config administration. librdkafka 2.0.2 has only `AlterConfigs`, which replaces a
/// resource's whole set of dynamic configs (IncrementalAlterConfigs arrived in 2.2).
extension RDClient {
    func describeTopicConfigs(_ topics: [TopicName], timeout: Duration) throws(KafkaError)
        -> [TopicName: Result<[ConfigEntry], KafkaError>]
    {
        var resources: [OpaquePointer?] = topics.map { rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, $0.rawValue) }
        defer { for resource in resources { rd_kafka_ConfigResource_destroy(resource) } }
        return try adminRequest(RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, "describing topic configs", timeout: timeout) { options, queue in
            resources.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_DescribeConfigs(handle, buffer.baseAddress, buffer.count, options, queue)
            }
        } parse: { event in
            var count = 0
            let results = rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(event), &count)
            var outcomes: [TopicName: Result<[ConfigEntry], KafkaError>] = [:]
            guard let results else { return outcomes }
            for index in 0..<count {
                guard let resource = results[index] else { continue }
                let topic = TopicName(String(cString: rd_kafka_ConfigResource_name(resource)))
                let code = rd_kafka_ConfigResource_error(resource)
                guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    outcomes[topic] = .failure(
                        RDErrorCode.error(
                            code, while: "describing the configs of \(topic)",
                            detail: rd_kafka_ConfigResource_error_string(resource).map { String(cString: $0) }, topic: topic))
                    continue
                }
                outcomes[topic] = .success(Self.entries(of: resource))
            }
            return outcomes
        }
    }

    private static func entries(of resource: OpaquePointer) -> [ConfigEntry] {
        var count = 0
        guard let entries = rd_kafka_ConfigResource_configs(resource, &count) else { return [] }
        return (0..<count).compactMap { index in
            guard let entry = entries[index] else { return nil }
            return ConfigEntry(
                name: String(cString: rd_kafka_ConfigEntry_name(entry)),
                value: rd_kafka_ConfigEntry_value(entry).map { String(cString: $0) },
                source: ConfigSource(rd_kafka_ConfigEntry_source(entry)),
                isReadOnly: rd_kafka_ConfigEntry_is_read_only(entry) != 0,
                isDefault: rd_kafka_ConfigEntry_is_default(entry) != 0,
                isSensitive: rd_kafka_ConfigEntry_is_sensitive(entry) != 0)
        }
    }

    /// Replaces the dynamic configs of `topic` with exactly `configs`.
    func replaceTopicConfigs(_ topic: TopicName, _ configs: [String: String], timeout: Duration) throws(KafkaError) {
        var resource: OpaquePointer? = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.rawValue)
        defer { rd_kafka_ConfigResource_destroy(resource) }
        for (key, value) in configs.sorted(by: { $0.key < $1.key }) {
            let result = rd_kafka_ConfigResource_set_config(resource, key, value)
            guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError.invalidConfiguration(key: key, value: value, reason: RDErrorCode.text(of: result.rawValue)).on(topic)
            }
        }
        try adminRequest(RD_KAFKA_ADMIN_OP_ALTERCONFIGS, "altering the configs of \(topic)", timeout: timeout) { options, queue in
            rd_kafka_AlterConfigs(handle, &resource, 1, options, queue)
        } parse: { event throws(KafkaError) in
            var count = 0
            let results = rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(event), &count)
            guard let results else { return }
            for index in 0..<count {
                guard let result = results[index] else { continue }
                let code = rd_kafka_ConfigResource_error(result)
                guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    throw RDErrorCode.error(
                        code, while: "altering the configs of \(topic)",
                        detail: rd_kafka_ConfigResource_error_string(result).map { String(cString: $0) }, topic: topic)
                }
            }
        }
    }
}

extension ConfigSource {
    init(_ source: rd_kafka_ConfigSource_t) {
        switch source {
        case RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG: self = .dynamicTopic
        case RD_KAFKA_CONFIG_SOURCE_DYNAMIC_BROKER_CONFIG: self = .dynamicBroker
        case RD_KAFKA_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG: self = .dynamicDefaultBroker
        case RD_KAFKA_CONFIG_SOURCE_STATIC_BROKER_CONFIG: self = .staticBroker
        case RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG: self = .defaultConfig
        default: self = .unknown
        }
    }
}
