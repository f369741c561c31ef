import CRdKafka

/// Builds an `rd_kafka_conf_t` from properties. The caller owns the result until it hands it
/// to `rd_kafka_new` (which takes it over only on success).
enum RDConfiguration {
    static func make(_ properties: [String: String]) throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(
                code: .failed, message: "allocating a librdkafka configuration failed; the process is out of memory.")
        }
        // Sorted so that errors and logs are reproducible.
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            do {
                try set(conf, key, value)
            } catch {
                rd_kafka_conf_destroy(conf)
                throw error
            }
        }
        return conf
    }

    static func set(_ conf: OpaquePointer, _ key: String, _ value: String) throws(KafkaError) {
        var buffer = [CChar](repeating: 0, count: 512)
        let result = buffer.withUnsafeMutableBufferPointer { errstr in
            rd_kafka_conf_set(conf, key, value, errstr.baseAddress, errstr.count)
        }
        guard result != RD_KAFKA_CONF_OK else { return }
        var reason = String(cBuffer: buffer)
        // librdkafka may quote the value in its explanation; a secret must not leak that way.
        if KafkaConfigurationRedaction.isSecret(key), !value.isEmpty {
            reason = reason.replacingOccurrences(of: value, with: KafkaConfigurationRedaction.mask)
        }
        throw KafkaError.invalidConfiguration(
            key: key, value: value,
            reason: reason.isEmpty ? (result == RD_KAFKA_CONF_UNKNOWN ? "unknown property" : "invalid value") : reason)
    }
}

extension String {
    /// The text in a NUL-terminated C buffer (all of it if no NUL), invalid UTF-8 replaced.
    init(cBuffer: [CChar]) {
        let bytes = cBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        self = String(decoding: bytes, as: UTF8.self)
    }

    /// A copy with every occurrence of `target` replaced, without Foundation.
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        result += rest
        return result
    }
}
