import Foundation

extension MirrorError.Code {
    /// Bytes of a stored group checkpoint (checkpoint-topic record or local file) cannot be decoded.
    public static let malformedCheckpoint = MirrorError.Code(rawValue: "malformed-checkpoint")
}

/// Encodes group checkpoints as records of a flow's checkpoint topic on the target cluster and
/// as the flow's local checkpoint file.
///
/// Record key: the group ID (UTF-8) — one key per group, so the compacted topic holds one live
/// record per group however long the flow runs. Record value and file: JSON, readable with kcat
/// and jq:
/// `{"version":1,"flow":{"source":"dc-a","target":"dc-b"},"checkpoint":{"group":…,"source":[…],"target":[…],"readAtMs":…}}`
/// and the file `{"version":1,"flow":{…},"checkpoints":[…]}`.
public enum GroupCheckpointCodec {
    /// The format version written; others are refused with an error.
    public static let version = 1

    private struct Record: Codable {
        var version: Int
        var flow: FlowID
        var checkpoint: GroupCheckpoint
    }

    private struct File: Codable {
        var version: Int
        var flow: FlowID
        var checkpoints: [GroupCheckpoint]
    }

    /// The record key and value storing `checkpoint` of `flow`.
    public static func encode(_ checkpoint: GroupCheckpoint, flow: FlowID) -> (key: [UInt8], value: [UInt8]) {
        (Array(checkpoint.group.rawValue.utf8), encodeJSON(Record(version: version, flow: flow, checkpoint: checkpoint)))
    }

    /// Decodes a record of the checkpoint topic.
    /// - Throws: ``MirrorError/Code/malformedCheckpoint`` saying what is wrong; never traps.
    public static func decode(key: [UInt8], value: [UInt8]) throws(MirrorError) -> (flow: FlowID, checkpoint: GroupCheckpoint) {
        let keyText = String(decoding: key.prefix(200), as: UTF8.self)
        let record: Record = try decodeJSON(value, what: "checkpoint record \(keyText)")
        guard record.version == version else {
            throw MirrorError(.malformedCheckpoint, "checkpoint record \(keyText) has version \(record.version); this "
                + "build reads version \(version) — upgrade the agent")
        }
        guard Array(record.checkpoint.group.rawValue.utf8) == key else {
            throw MirrorError(.malformedCheckpoint, "checkpoint record \(keyText) holds group \(record.checkpoint.group)")
        }
        return (record.flow, record.checkpoint)
    }

    /// The bytes of the local checkpoint file holding `checkpoints` of `flow`.
    public static func encodeFile(_ checkpoints: [GroupCheckpoint], flow: FlowID) -> [UInt8] {
        encodeJSON(File(version: version, flow: flow, checkpoints: checkpoints.sorted { $0.group < $1.group }))
    }

    /// Decodes the local checkpoint file found at `path`, which must belong to `flow`.
    public static func decodeFile(_ bytes: [UInt8], flow: FlowID, path: String) throws(MirrorError) -> [GroupCheckpoint] {
        let file: File = try decodeJSON(bytes, what: "checkpoint file \(path)")
        guard file.version == version else {
            throw MirrorError(.malformedCheckpoint, "checkpoint file \(path) has version \(file.version); this build reads "
                + "version \(version) — upgrade the agent, or move the file aside")
        }
        guard file.flow == flow else {
            throw MirrorError(.malformedCheckpoint, "checkpoint file \(path) belongs to flow \(file.flow), not \(flow); "
                + "check data_dir")
        }
        return file.checkpoints
    }

    private static func encodeJSON(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding these types cannot fail: every value is a string, an integer or a list of them.
        return (try? Array(encoder.encode(value))) ?? []
    }

    private static func decodeJSON<T: Decodable>(_ bytes: [UInt8], what: String) throws(MirrorError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let DecodingError.dataCorrupted(context) {
            throw malformed(what, context)
        } catch let DecodingError.keyNotFound(key, context) {
            throw MirrorError(.malformedCheckpoint, "\(what): missing \(path(context, key)); move it aside")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw malformed(what, context)
        } catch {
            throw MirrorError(.malformedCheckpoint, "\(what) is not a checkpoint: \(error)")
        }
    }

    private static func malformed(_ what: String, _ context: DecodingError.Context) -> MirrorError {
        MirrorError(.malformedCheckpoint, "\(what): \(path(context, nil)): \(context.debugDescription); move it aside")
    }

    private static func path(_ context: DecodingError.Context, _ key: (any CodingKey)?) -> String {
        let keys = context.codingPath + (key.map { [$0] } ?? [])
        let text = keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        return text.isEmpty ? "the top level" : text
    }
}
