extension LogStore {
    /// Every known config of the topic with its effective value (DescribeConfigs).
    public func effectiveConfigs(_ name: String) -> [TopicConfigEntry]? {
        guard let topic = metadata[name], let topicSettings = settings[name] else { return nil }
        return TopicConfigKey.all.map { key in
            TopicConfigEntry(
                name: key,
                value: topicSettings.value(of: key),
                isDefault: topic.configs[key] == nil,
                isSensitive: false,
                readOnly: false
            )
        }
    }

    /// Checks a config set as AlterConfigs or CreateTopics would, changing nothing (`validateOnly`).
    public func validateConfigs(_ configs: [String: String]) throws(StorageError) {
        _ = try TopicSettings(configs: configs, brokerSegmentBytes: configuration.segmentBytes)
    }

    /// Replaces the topic's explicit configs with `configs` (AlterConfigs semantics: keys not
    /// given return to their defaults).
    public func alterConfigs(_ name: String, replacingWith configs: [String: String]) throws(StorageError) {
        guard metadata[name] != nil else { throw .unknownTopic(name) }
        try applyConfigs(name, configs)
    }

    /// Applies set/delete/append/subtract operations to the topic's explicit configs
    /// (IncrementalAlterConfigs); all are validated before any is applied.
    public func incrementalAlterConfigs(_ name: String, operations: [ConfigOperation]) throws(StorageError) {
        try applyConfigs(name, configsAfter(operations, on: name))
    }

    /// The explicit configs `operations` would leave on the topic, validated, changing nothing
    /// (IncrementalAlterConfigs `validateOnly`).
    public func configsAfter(_ operations: [ConfigOperation], on name: String) throws(StorageError) -> [String: String] {
        guard let topic = metadata[name], let current = settings[name] else { throw .unknownTopic(name) }
        var configs = topic.configs
        for operation in operations {
            let key = operation.key
            switch operation.kind {
            case .set(let value):
                try TopicSettings.checkKnown(key, value: value)
                configs[key] = value
            case .delete:
                try TopicSettings.checkKnown(key, value: nil)
                configs[key] = nil
            case .append(let value), .subtract(let value):
                try TopicSettings.checkKnown(key, value: value)
                guard TopicSettings.isList(key) else {
                    throw TopicSettings.invalid(key, value, "append and subtract apply only to list configs such as cleanup.policy")
                }
                var list = (configs[key] ?? current.value(of: key) ?? "").split(separator: ",").map { $0.trimmingSpaces() }
                let items = value.split(separator: ",").map { $0.trimmingSpaces() }
                if case .append = operation.kind {
                    list.append(contentsOf: items.filter { !list.contains($0) })
                } else {
                    list.removeAll { items.contains($0) }
                }
                configs[key] = list.joined(separator: ",")
            }
        }
        try validateConfigs(configs)
        return configs
    }

    private func applyConfigs(_ name: String, _ configs: [String: String]) throws(StorageError) {
        guard var topic = metadata[name] else { throw .unknownTopic(name) }
        let topicSettings = try TopicSettings(configs: configs, brokerSegmentBytes: configuration.segmentBytes)
        topic.configs = configs
        try persist(topic)
        metadata[name] = topic
        settings[name] = topicSettings
        for log in partitions[name] ?? [] { log.settings = topicSettings }
    }
}
