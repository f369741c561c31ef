extension ApiVersionsResponse {
    /// The ApiVersions response that advertises `ranges` (by default every supported API),
    /// sorted by API key as Kafka brokers send it.
    ///
    /// - Parameter errorCode: `.unsupportedVersion` when answering an ApiVersions request of a
    ///   version outside the advertised range; clients then retry with a version from the list.
    /// - Important: encode a response that carries an error as version 0, whatever version was
    ///   asked for: clients (kafka-python, the Java client) read an errored ApiVersions response
    ///   as v0, since they cannot know which versions the broker speaks.
    public static func advertising(
        _ ranges: [ApiKey: ClosedRange<Int16>] = SupportedApiVersions.ranges,
        errorCode: KafkaErrorCode = .none
    ) -> ApiVersionsResponse {
        ApiVersionsResponse(
            errorCode: errorCode.rawValue,
            apiKeys: ranges.sorted { $0.key.rawValue < $1.key.rawValue }.map { api, range in
                ApiVersion(apiKey: api.rawValue, minVersion: range.lowerBound, maxVersion: range.upperBound)
            }
        )
    }
}

extension SupportedApiVersions {
    /// What a broker lists in its ApiVersions answer: ``ranges``, except that Produce is listed
    /// from v0, as Kafka 3 brokers do, though only v3 and later is decoded. librdkafka before
    /// 2.11.1 (Debian's 2.0.2) compresses with gzip, snappy or lz4 only when a broker lists
    /// Produce v0, and otherwise sends those batches uncompressed. Clients pick the newest
    /// common version, so none sends v0–v2 in practice; one that did would get its connection
    /// closed, as for any version outside ``ranges``.
    ///
    /// Kept out of `SupportedApiVersions.swift`: the code generator reads that file's ranges.
    public static let advertised: [ApiKey: ClosedRange<Int16>] = {
        var advertised = ranges
        if let produce = ranges[.produce] { advertised[.produce] = 0...produce.upperBound }
        return advertised
    }()
}
