/// A topic as the cluster's metadata describes it.
public struct TopicMetadata: Sendable, Hashable {
    public var name: TopicName
    public var partitions: [PartitionMetadata]
    /// An error the broker reported for the whole topic (for example while it is being created).
    public var error: KafkaError?

    public var partitionCount: Int { partitions.count }

    public init(name: TopicName, partitions: [PartitionMetadata], error: KafkaError?) {
        self.name = name
        self.partitions = partitions
        self.error = error
    }
}

/// One partition in the cluster's metadata.
public struct PartitionMetadata: Sendable, Hashable {
    public var partition: Partition
    /// The leader's broker id, or -1 when the partition has no leader.
    public var leader: Int32
    public var replicas: [Int32]
    public var inSyncReplicas: [Int32]
    public var error: KafkaError?

    public init(partition: Partition, leader: Int32, replicas: [Int32], inSyncReplicas: [Int32], error: KafkaError?) {
        self.partition = partition
        self.leader = leader
        self.replicas = replicas
        self.inSyncReplicas = inSyncReplicas
        self.error = error
    }
}

/// A topic to create.
public struct NewTopic: Sendable, Hashable {
    public var name: TopicName
    public var partitions: Int32
    /// `-1` takes the broker's `default.replication.factor`.
    public var replicationFactor: Int32
    /// Topic configs, for example `["cleanup.policy": "compact"]`.
    public var configs: [String: String]

    public init(name: TopicName, partitions: Int32, replicationFactor: Int32 = -1, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// Where a config value comes from.
public enum ConfigSource: Sendable, Hashable {
    /// Set on the topic itself (what `AlterConfigs` replaces).
    case dynamicTopic
    case dynamicBroker
    case dynamicDefaultBroker
    case staticBroker
    case defaultConfig
    case unknown
}

/// One config entry of a resource.
public struct ConfigEntry: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    /// `nil` for sensitive values, which brokers never return.
    public var value: String?
    public var source: ConfigSource
    public var isReadOnly: Bool
    public var isDefault: Bool
    public var isSensitive: Bool

    public init(
        name: String, value: String?, source: ConfigSource, isReadOnly: Bool, isDefault: Bool, isSensitive: Bool
    ) {
        self.name = name
        self.value = value
        self.source = source
        self.isReadOnly = isReadOnly
        self.isDefault = isDefault
        self.isSensitive = isSensitive
    }

    public var description: String {
        let shown = isSensitive || KafkaConfigurationRedaction.isSecret(name) ? KafkaConfigurationRedaction.mask : (value ?? "null")
        return "\(name)=\(shown) (\(source))"
    }
}

/// The state of a consumer group, as its coordinator reports it.
public enum ConsumerGroupState: Sendable, Hashable {
    case unknown, preparingRebalance, completingRebalance, stable, dead, empty
}

/// A consumer group as listed by the cluster.
public struct ConsumerGroupListing: Sendable, Hashable {
    public var id: GroupID
    /// A group only used for commits, with no members joining it.
    public var isSimple: Bool
    public var state: ConsumerGroupState

    public init(id: GroupID, isSimple: Bool, state: ConsumerGroupState) {
        self.id = id
        self.isSimple = isSimple
        self.state = state
    }
}

/// A consumer group's members and state.
public struct ConsumerGroupDescription: Sendable, Hashable {
    public var id: GroupID
    public var state: ConsumerGroupState
    public var isSimple: Bool
    public var partitionAssignor: String
    /// The broker id of the group coordinator, when known.
    public var coordinator: Int32?
    public var members: [ConsumerGroupMember]

    /// Whether any consumer is in the group now (offsets may only be moved when none is).
    public var hasActiveMembers: Bool { !members.isEmpty }

    public init(
        id: GroupID, state: ConsumerGroupState, isSimple: Bool, partitionAssignor: String, coordinator: Int32?,
        members: [ConsumerGroupMember]
    ) {
        self.id = id
        self.state = state
        self.isSimple = isSimple
        self.partitionAssignor = partitionAssignor
        self.coordinator = coordinator
        self.members = members
    }
}

/// One member of a consumer group.
public struct ConsumerGroupMember: Sendable, Hashable {
    public var memberID: String
    public var clientID: String
    public var host: String
    public var groupInstanceID: String?
    public var assignment: [TopicPartition]

    public init(memberID: String, clientID: String, host: String, groupInstanceID: String?, assignment: [TopicPartition]) {
        self.memberID = memberID
        self.clientID = clientID
        self.host = host
        self.groupInstanceID = groupInstanceID
        self.assignment = assignment
    }
}

/// The groups a cluster lists, and the errors of brokers that could not answer.
public struct ConsumerGroupList: Sendable, Hashable {
    public var groups: [ConsumerGroupListing]
    /// Non-empty when some broker did not answer: `groups` may then be incomplete.
    public var errors: [KafkaError]

    public init(groups: [ConsumerGroupListing], errors: [KafkaError]) {
        self.groups = groups
        self.errors = errors
    }
}
