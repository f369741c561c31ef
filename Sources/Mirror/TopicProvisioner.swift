import KafkaClient
import Logging

/// One source topic a flow copies, and where.
struct MirroredTopic: Hashable, Sendable {
    var source: TopicName
    var target: TopicName
    /// The source's partition count (the target has at least as many).
    var partitions: Int32
}

/// Creates and grows the flow's topics on the target cluster; never deletes anything.
///
/// New target topics get the source's partition count and the configs that decide what the
/// topic keeps (`retention.ms`, `retention.bytes`, `cleanup.policy`, `max.message.bytes`) when
/// the source topic sets them itself. A target topic with fewer partitions than its source is
/// grown, so partition numbers match on both sides.
struct TopicProvisioner {
    /// The configs copied to new target topics.
    static let copiedConfigs = ["retention.ms", "retention.bytes", "cleanup.policy", "max.message.bytes"]

    let configuration: FlowConfiguration
    let sourceAdmin: KafkaAdmin
    let targetAdmin: KafkaAdmin
    let logger: Logger

    /// Brings the target in line with the source; returns the topics the flow copies.
    /// - Throws: ``MirrorError`` (retriable) when a cluster cannot be asked or refuses a change.
    func reconcile() async throws(MirrorError) -> [MirroredTopic] {
        let flow = configuration.flow
        let sourceTopics: [KafkaClient.TopicName: TopicMetadata]
        let targetTopics: [KafkaClient.TopicName: TopicMetadata]
        do {
            sourceTopics = try await sourceAdmin.listTopics()
            targetTopics = try await targetAdmin.listTopics()
        } catch {
            throw MirrorError(.kafka, "cannot list topics for \(flow): \(error)", isRetriable: true)
        }
        var mirrored: [MirroredTopic] = []
        for (name, metadata) in sourceTopics.sorted(by: { $0.key < $1.key }) {
            guard metadata.error == nil, metadata.partitionCount > 0, let topic = TopicName(kafka: name),
                let target = configuration.copies(topic)
            else { continue }
            mirrored.append(MirroredTopic(source: topic, target: target, partitions: Int32(clamping: metadata.partitionCount)))
        }
        let missing = mirrored.filter { targetTopics[$0.target.kafka] == nil }
        if !missing.isEmpty { try await create(missing) }
        var grow: [KafkaClient.TopicName: Int] = [:]
        for topic in mirrored {
            if let existing = targetTopics[topic.target.kafka], existing.partitionCount < Int(topic.partitions) {
                grow[topic.target.kafka] = Int(topic.partitions)
            }
        }
        if !grow.isEmpty {
            logger.info("\(flow): growing target topics \(grow.map { "\($0.key) to \($0.value)" }.sorted())")
            do {
                for (name, result) in try await targetAdmin.createPartitions(grow) {
                    if case .failure(let error) = result, error.code != .invalidPartitions {
                        throw MirrorError(.provisioning, "cannot grow \(name) on \(flow.target): \(error)", isRetriable: true)
                    }
                }
            } catch let error as MirrorError {
                throw error
            } catch {
                throw MirrorError(.provisioning, "cannot grow target topics of \(flow): \(error)", isRetriable: true)
            }
        }
        return mirrored
    }

    private func create(_ topics: [MirroredTopic]) async throws(MirrorError) {
        let flow = configuration.flow
        do {
            let described = try await sourceAdmin.describeTopicConfigs(topics.map(\.source.kafka))
            let newTopics = topics.map { topic in
                var configs: [String: String] = [:]
                if case .success(let entries) = described[topic.source.kafka] {
                    for entry in entries where Self.copiedConfigs.contains(entry.name) && entry.source == .dynamicTopic {
                        if let value = entry.value { configs[entry.name] = value }
                    }
                }
                return NewTopic(name: topic.target.kafka, partitions: topic.partitions, configs: configs)
            }
            logger.info("\(flow): creating target topics \(newTopics.map { "\($0.name)×\($0.partitions) \($0.configs)" })")
            for (name, result) in try await targetAdmin.createTopics(newTopics) {
                if case .failure(let error) = result, error.code != .topicAlreadyExists {
                    throw MirrorError(.provisioning, "cannot create \(name) on \(flow.target): \(error)", isRetriable: true)
                }
            }
        } catch let error as MirrorError {
            throw error
        } catch {
            throw MirrorError(.provisioning, "cannot create target topics of \(flow): \(error)", isRetriable: true)
        }
    }
}
