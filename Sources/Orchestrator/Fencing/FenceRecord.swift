import Consensus
import Foundation
import Sites

/// Whether a site's producers are fenced, for which epoch, and what fencing changed — kept in
/// the fenced cluster's own `__switchback_state`, so an unfence after an agent restart (or by
/// another agent) restores exactly the values that were there before.
public struct FenceRecord: Codable, Hashable, Sendable, CustomStringConvertible {
    public enum State: String, Codable, Hashable, Sendable {
        /// `min.insync.replicas` of the selected topics is raised above their replication factor.
        case fenced
        /// The previous values are restored.
        case unfenced
    }

    /// One topic's `min.insync.replicas` before the fence.
    public struct PreviousSetting: Codable, Hashable, Sendable {
        public var topic: String
        /// The topic's own (dynamic) value; `nil` when it had none and the broker default applied.
        public var value: String?

        public init(topic: String, value: String?) {
            self.topic = topic
            self.value = value
        }
    }

    /// Where one partition's log ended once the fence had taken effect: `acks=all` producers
    /// cannot have written past it, so a reconcile copies up to here.
    public struct PartitionEnd: Codable, Hashable, Sendable {
        public var topic: String
        public var partition: Int32
        public var offset: Int64

        public init(topic: String, partition: Int32, offset: Int64) {
            self.topic = topic
            self.partition = partition
            self.offset = offset
        }
    }

    public var site: SiteID
    public var epoch: Epoch
    public var state: State
    /// Every topic the fence changed (or was about to change), with its value before.
    public var previous: [PreviousSetting]
    /// The log ends read once every topic was raised; `nil` until then (a crash in between).
    public var logEnds: [PartitionEnd]?
    public var changedAt: Date

    public init(site: SiteID, epoch: Epoch, state: State, previous: [PreviousSetting],
                logEnds: [PartitionEnd]? = nil, changedAt: Date = Date()) {
        self.site = site
        self.epoch = epoch
        self.state = state
        self.previous = previous
        self.logEnds = logEnds
        self.changedAt = changedAt
    }

    /// The value before the fence of `topic`'s `min.insync.replicas`, if the fence covers it:
    /// `.some(nil)` means it had no value of its own.
    public func previousValue(of topic: String) -> String?? {
        previous.first { $0.topic == topic }.map(\.value)
    }

    /// The end recorded for one partition.
    public func logEnd(topic: String, partition: Int32) -> Int64? {
        logEnds?.first { $0.topic == topic && $0.partition == partition }?.offset
    }

    public var description: String {
        "\(site) \(state.rawValue) at \(epoch) (\(previous.count) topic(s))"
    }
}
