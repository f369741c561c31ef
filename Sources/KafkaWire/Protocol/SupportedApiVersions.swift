/// The protocol versions LocalKafka advertises and decodes, per API.
///
/// This table is the single source of truth: the ApiVersions response is built from it,
/// `KafkaRequest.decode` refuses anything outside it, and `script/generate-protocol.py` reads
/// it (this file, verbatim) to decide which versions the generated codecs handle.
///
/// Only non-flexible versions are advertised (clients negotiate down), except ApiVersions v3–v4:
/// current clients open with ApiVersions v3/v4, and kafka-python 3 cannot read the v0-format
/// UNSUPPORTED_VERSION fallback a broker sends for a version it does not know.
///
/// Produce starts at v3 and Fetch at v4 because those are the first versions that carry
/// record batch v2, the only record format LocalKafka stores; every target client (librdkafka,
/// confluent-kafka, kafka-python, kcat) uses v2 batches and these versions. Advertising older
/// versions would invite message sets v0/v1 that the broker cannot store. One exception, in what
/// a broker lists rather than here: Produce is listed from v0 (see `SupportedApiVersions.advertised`).
public enum SupportedApiVersions {
    /// Advertised version range per API, inclusive.
    public static let ranges: [ApiKey: ClosedRange<Int16>] = [
        .produce: 3...8,
        .fetch: 4...11,
        .listOffsets: 0...5,
        .metadata: 0...8,
        .offsetCommit: 0...7,
        .offsetFetch: 0...5,
        .findCoordinator: 0...2,
        .joinGroup: 0...5,
        .heartbeat: 0...3,
        .leaveGroup: 0...3,
        .syncGroup: 0...3,
        .describeGroups: 0...4,
        .listGroups: 0...2,
        .apiVersions: 0...4,
        .createTopics: 0...4,
        .deleteTopics: 0...3,
        .deleteRecords: 0...1,
        .initProducerId: 0...1,
        .addPartitionsToTxn: 0...2,
        .addOffsetsToTxn: 0...2,
        .endTxn: 0...2,
        .txnOffsetCommit: 0...2,
        .describeConfigs: 0...3,
        .alterConfigs: 0...1,
        .createPartitions: 0...1,
        .incrementalAlterConfigs: 0...0,
        .offsetDelete: 0...0,
    ]

    /// Whether `version` of `api` uses the flexible encoding (compact strings and arrays,
    /// tagged fields, request header v2 and, except for ApiVersions, response header v1).
    ///
    /// Answers from the schemas, not from `ranges`, so the header of a request whose version is
    /// not supported is still read correctly and can be answered with UNSUPPORTED_VERSION.
    public static func isFlexible(_ api: ApiKey, version: Int16) -> Bool {
        guard let first = firstFlexibleVersion[api] else {
            return false
        }
        return version >= first
    }

    /// Whether `version` of `api` is advertised (and so decoded).
    public static func isSupported(_ api: ApiKey, version: Int16) -> Bool {
        ranges[api]?.contains(version) ?? false
    }
}
