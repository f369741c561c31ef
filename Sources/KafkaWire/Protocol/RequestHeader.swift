import NIOCore

/// The header in front of every request body (request header v1, or v2 in flexible versions).
///
/// v1 is `apiKey:int16 apiVersion:int16 correlationId:int32 clientId:nullable string`; v2 adds a
/// tagged-field section. The client ID stays a classic (int16-length) string even in v2, so that
/// a broker can read it before it knows anything about the API.
public struct RequestHeader: Sendable, Equatable {
    /// The raw API key; may name an API LocalKafka does not implement.
    public var apiKey: Int16
    /// The API version the body is encoded in.
    public var apiVersion: Int16
    /// Echoed in the response so the client can match it to this request.
    public var correlationId: Int32
    /// The client's self-chosen name, for logs; `nil` when the client sent null.
    public var clientId: String?

    /// The API named by `apiKey`, or `nil` when LocalKafka does not implement it.
    public var api: ApiKey? { ApiKey(rawValue: apiKey) }

    public init(apiKey: Int16, apiVersion: Int16, correlationId: Int32, clientId: String? = nil) {
        self.apiKey = apiKey
        self.apiVersion = apiVersion
        self.correlationId = correlationId
        self.clientId = clientId
    }

    public init(api: ApiKey, apiVersion: Int16, correlationId: Int32, clientId: String? = nil) {
        self.init(apiKey: api.rawValue, apiVersion: apiVersion, correlationId: correlationId, clientId: clientId)
    }

    /// Whether this header is v2 (carries tagged fields): the API and version are flexible.
    /// Unknown API keys are read as v1, which is all that is needed to answer them with an error.
    var isFlexible: Bool {
        guard let api else {
            return false
        }
        return SupportedApiVersions.isFlexible(api, version: apiVersion)
    }

    /// Reads a request header from the front of a request frame (after its size prefix),
    /// leaving `buffer` at the start of the body.
    ///
    /// - Throws: `WireError.truncated` or `.malformed` when the header cannot be read. An API
    ///   key or version LocalKafka does not support is NOT an error here; `KafkaRequest.decode`
    ///   reports it, after the correlation ID needed to answer it has been read.
    public static func decode(from buffer: inout ByteBuffer) throws(WireError) -> RequestHeader {
        var header = RequestHeader(
            apiKey: try buffer.readProtocolInteger("RequestHeader.requestApiKey"),
            apiVersion: try buffer.readProtocolInteger("RequestHeader.requestApiVersion"),
            correlationId: try buffer.readProtocolInteger("RequestHeader.correlationId")
        )
        header.clientId = try buffer.readProtocolNullableString("RequestHeader.clientId", compact: false, nullable: true)
        if header.isFlexible {
            // Header v2 defines no tagged fields that a broker must understand.
            try buffer.skipProtocolTaggedFields("RequestHeader.taggedFields")
        }
        return header
    }

    /// Writes this header (v1, or v2 when the API and version are flexible).
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(apiKey)
        buffer.writeInteger(apiVersion)
        buffer.writeInteger(correlationId)
        buffer.writeProtocolString(clientId, compact: false, nullable: true)
        if isFlexible {
            buffer.writeProtocolTaggedFields([])
        }
    }
}
