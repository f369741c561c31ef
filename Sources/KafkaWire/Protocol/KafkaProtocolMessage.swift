// # Kafka protocol codecs
//
// Request and response bodies for the 23 APIs LocalKafka speaks, in exactly the versions it
// advertises (`SupportedApiVersions.swift`, the single source of truth).
//
// - Hand-written: `Primitives*.swift` (integers, strings, bytes, arrays, compact forms, tagged
//   fields — every length is checked against the remaining bytes before anything is allocated),
//   `RequestHeader`, `ResponseFrame`/`RequestFrame`, `ApiKey`, `KafkaErrorCode`,
//   `SupportedApiVersions`, `ApiVersionsResponse.advertising(…)`.
// - Generated: `Generated/*.swift` (one struct per message, plus `KafkaRequest`, `KafkaResponse`
//   and the first flexible version of each API), and the test fixtures in
//   `Tests/KafkaWireTests/ProtocolTests/Generated/`. After changing `SupportedApiVersions.ranges`:
//
//   ```sh
//   script/generate-protocol.py            # reads /work/shared/reference/kafka-protocol (or --schemas DIR)
//   ```
//
//   APIs whose schemas are not in that reference (the transaction APIs AddPartitionsToTxn,
//   AddOffsetsToTxn, EndTxn, TxnOffsetCommit) are described in the project's own files in
//   `script/protocol-extra/` (same JSON format, `--extra-schemas DIR`), which the generator
//   reads as well.
//
//   The test `generatedFilesAreUpToDate` fails when the committed files are stale, and
//   `everyEncodingAgreesWithKafkaPython` checks every sample encoding against kafka-python 3.
//
// Broker-side rules these codecs leave to the server:
// - `KafkaRequest.decode` throws `.unsupported` for versions outside the table, after the header
//   (and so the correlation ID) has been read. Answer an unsupported ApiVersions request with
//   `ApiVersionsResponse.advertising(errorCode: .unsupportedVersion)` encoded as **version 0**:
//   clients read any ApiVersions response that carries an error as v0.
// - The ApiVersions response header is always v0 (`ResponseFrame` does this).
// - Bytes left after the last field of a request are rejected as malformed.

import NIOCore

/// A request or response body of one Kafka API, encodable in each version LocalKafka supports.
public protocol KafkaProtocolMessage: Sendable, Equatable {
    /// The API this message belongs to.
    static var apiKey: ApiKey { get }

    /// Reads the body as encoded in `version`.
    ///
    /// - Throws: `WireError` when the bytes are truncated or malformed for that version.
    init(from buffer: inout ByteBuffer, version: Int16) throws(WireError)

    /// Writes the body as encoded in `version`. Fields that do not exist in `version` are left
    /// out, and a `nil` in a version where the field is not nullable is written as empty.
    func encode(into buffer: inout ByteBuffer, version: Int16)
}
