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
