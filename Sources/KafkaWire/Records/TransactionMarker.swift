import NIOCore

/// The kind of a control record: the outcome a transaction coordinator wrote for a transaction.
public enum ControlRecordType: Int16, Sendable, Equatable {
    case abort = 0
    case commit = 1
}

extension RecordBatch {
    /// The transaction outcome a control batch records; nil for a data batch.
    ///
    /// Reads the key of the first record: `version:int16 type:int16`.
    /// - Throws: `WireError.malformed` for a control batch whose record is missing, compressed,
    ///   or whose key is not a known control record type.
    public func controlRecordType() throws(WireError) -> ControlRecordType? {
        guard header.isControl else { return nil }
        guard case .records(let records) = try payload(), let record = records.first else {
            throw .malformed(field: "control record", reason: "a control batch must hold one uncompressed record")
        }
        guard let key = record.key, key.readableBytes >= 4,
            let rawType: Int16 = key.getInteger(at: key.readerIndex + 2),
            let type = ControlRecordType(rawValue: rawType)
        else {
            throw .malformed(field: "control record key", reason: "not version:int16 type:int16 with type 0 (abort) or 1 (commit)")
        }
        return type
    }
}
