import Consensus
import Foundation
import Sites

/// What one cluster's `__switchback_state` topic holds, read to its end: the newest epoch
/// record and, per site, its newest fence record.
///
/// Every record is keyed by its epoch (`epoch/<epoch>`, `fence/<site>/<epoch>`), so compaction
/// keeps one record per epoch and never lets an older epoch's record replace a newer one, and
/// the reader takes the *highest* epoch, not the last record written: a stale agent whose
/// write slips past the check in ``SiteStateTopic/record(_:on:)`` still cannot move the
/// epoch back.
public struct SiteState: Sendable, Hashable {
    /// The epoch record with the highest epoch.
    public var epochRecord: ClusterEpochRecord?
    /// Per site, the fence record with the highest epoch (for one epoch, the last written).
    public var fences: [SiteID: FenceRecord]

    public init(epochRecord: ClusterEpochRecord? = nil, fences: [SiteID: FenceRecord] = [:]) {
        self.epochRecord = epochRecord
        self.fences = fences
    }

    /// The newest epoch this cluster has seen act: its epoch record's, or a fence's if newer
    /// (a fence is written by the agent of its epoch).
    public var newestEpoch: Epoch? {
        ([epochRecord?.epoch] + fences.values.map { Optional($0.epoch) }).compactMap { $0 }.max()
    }

    /// Admits an action for `epoch`, or throws ``FencingError/Code/staleEpoch`` when this
    /// cluster has seen a newer one.
    public func admit(_ epoch: Epoch, action: String) throws(FencingError) {
        var fence = EpochFence(newest: newestEpoch)
        do {
            try fence.admit(epoch, action: action)
        } catch {
            throw FencingError(error)
        }
    }

    /// Folds in one record read from the topic, in log order.
    mutating func apply(_ entry: SiteStateEntry) {
        switch entry {
        case .epoch(let record):
            if let current = epochRecord, current.epoch > record.epoch { return }
            epochRecord = record
        case .fence(let record):
            if let current = fences[record.site], current.epoch > record.epoch { return }
            fences[record.site] = record
        }
    }
}

/// One record of `__switchback_state`: its key says what it is and for which epoch; its value
/// is JSON.
enum SiteStateEntry: Hashable, Sendable {
    case epoch(ClusterEpochRecord)
    case fence(FenceRecord)

    /// Epochs are written with 20 digits so keys sort as their epochs do.
    static func epochKey(_ epoch: Epoch) -> String { "epoch/" + digits(epoch) }
    static func fenceKey(site: SiteID, epoch: Epoch) -> String { "fence/\(site.rawValue)/" + digits(epoch) }

    private static func digits(_ epoch: Epoch) -> String {
        let text = String(epoch.rawValue)
        return String(repeating: "0", count: max(0, 20 - text.count)) + text
    }

    var key: String {
        switch self {
        case .epoch(let record): Self.epochKey(record.epoch)
        case .fence(let record): Self.fenceKey(site: record.site, epoch: record.epoch)
        }
    }

    func encodedValue() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        // Both records are plain data: encoding them cannot fail.
        let data: Data
        switch self {
        case .epoch(let record): data = (try? encoder.encode(record)) ?? Data()
        case .fence(let record): data = (try? encoder.encode(record)) ?? Data()
        }
        return Array(data)
    }

    /// Decodes a record read from the topic. `nil` for a tombstone or a key of another kind
    /// (a newer agent may write kinds this one does not know); throws for a known key whose
    /// value does not decode or does not match its key.
    static func decode(key: [UInt8]?, value: [UInt8]?) throws(FencingError) -> SiteStateEntry? {
        guard let key, let text = String(validating: key, as: UTF8.self), let value else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let entry: SiteStateEntry
        do {
            if text.hasPrefix("epoch/") {
                entry = .epoch(try decoder.decode(ClusterEpochRecord.self, from: Data(value)))
            } else if text.hasPrefix("fence/") {
                entry = .fence(try decoder.decode(FenceRecord.self, from: Data(value)))
            } else {
                return nil
            }
        } catch {
            throw FencingError(.malformedState, "\(SiteStateTopic.name) record \(text) does not decode: \(error); "
                + "something other than a Switchback agent wrote it")
        }
        guard entry.key == text else {
            throw FencingError(.malformedState, "\(SiteStateTopic.name) record \(text) holds the value of \(entry.key); "
                + "something other than a Switchback agent wrote it")
        }
        return entry
    }
}
