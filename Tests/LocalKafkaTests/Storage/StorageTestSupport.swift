import Foundation
import KafkaWire
import Logging
import NIOCore
@testable import LocalKafka

/// A fresh directory under the system temp dir, removed after `body`.
func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("localkafka-storage-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url)
}

func storageConfiguration(_ directory: URL, segmentBytes: Int = 64 * 1024 * 1024, fsync: FsyncPolicy = .always) -> BrokerConfiguration {
    BrokerConfiguration(dataDirectory: directory, fsync: fsync, segmentBytes: segmentBytes)
}

let testLogger = Logger(label: "localkafka.storage.tests")

func openStore(_ directory: URL, segmentBytes: Int = 64 * 1024 * 1024, fsync: FsyncPolicy = .always) throws -> LogStore {
    try LogStore(configuration: storageConfiguration(directory, segmentBytes: segmentBytes, fsync: fsync), logger: testLogger)
}

/// Runs `body` with a fresh store in a temporary directory holding topic "t" with one
/// partition, and that partition's log; the store is closed afterwards.
func withPartition<T>(_ body: (URL, LogStore, PartitionLog) throws -> T) throws -> T {
    try withTemporaryDirectory { directory in
        let store = try openStore(directory)
        defer { store.close() }
        _ = try store.createTopic("t", partitions: 1, configs: [:])
        guard let log = store.partition("t", 0) else { throw StorageError(.unknownTopicOrPartition, "topic t has no partition 0") }
        return try body(directory, store, log)
    }
}

/// An uncompressed batch of `count` records with values "<prefix>-<i>".
func makeBatch(
    count: Int = 1,
    prefix: String = "value",
    timestamp: Int64 = 1_000,
    producerId: Int64 = -1,
    epoch: Int16 = -1,
    sequence: Int32 = -1
) -> ByteBuffer {
    var builder = RecordBatchBuilder(baseTimestamp: timestamp)
    builder.producerId = producerId
    builder.producerEpoch = epoch
    builder.baseSequence = sequence
    for index in 0..<count {
        builder.append(key: ByteBuffer(string: "key-\(index)"), value: ByteBuffer(string: "\(prefix)-\(index)"), timestamp: timestamp + Int64(index))
    }
    return builder.build()
}

/// Every record value in `records` (whole batches), with its absolute offset.
func decodeValues(_ records: ByteBuffer) throws -> [(offset: Int64, value: String)] {
    var result: [(Int64, String)] = []
    for batch in try RecordBatchSequence(splitting: records).batches {
        guard case .records(let decoded) = try batch.payload() else { continue }
        for record in decoded {
            result.append((batch.header.baseOffset + Int64(record.offsetDelta), record.value.map { String(buffer: $0) } ?? ""))
        }
    }
    return result
}

/// Reads the partition from `offset` to its end, batch range by batch range.
func readAll(_ log: PartitionLog, from offset: Int64? = nil, maxBytes: Int = 4096) throws -> [(offset: Int64, value: String)] {
    var next = offset ?? log.logStartOffset
    var values: [(Int64, String)] = []
    while next < log.logEndOffset {
        let result = try log.read(from: next, maxBytes: maxBytes)
        let decoded = try decodeValues(result.records).filter { $0.offset >= next }
        guard let last = decoded.last else { break }
        values.append(contentsOf: decoded)
        next = last.offset + 1
    }
    return values
}

func segmentFiles(_ directory: URL, _ topic: String, _ partition: Int) throws -> [URL] {
    let partitionDirectory = directory.appendingPathComponent("topics/\(topic)-\(partition)")
    return try FileManager.default.contentsOfDirectory(at: partitionDirectory, includingPropertiesForKeys: nil)
        .filter { $0.pathExtension == "log" }
        .sorted { $0.lastPathComponent < $1.lastPathComponent }
}

func fileSize(_ url: URL) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? -1
}

func truncateFile(_ url: URL, to size: Int) throws {
    let handle = try FileHandle(forWritingTo: url)
    try handle.truncate(atOffset: UInt64(size))
    try handle.close()
}

func appendBytes(_ url: URL, _ bytes: [UInt8]) throws {
    let handle = try FileHandle(forWritingTo: url)
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(bytes))
    try handle.close()
}

func flipByte(_ url: URL, at position: Int) throws {
    var data = try Data(contentsOf: url)
    data[position] ^= 0x5A
    try data.write(to: url)
}

