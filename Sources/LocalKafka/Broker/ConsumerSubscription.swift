import NIOCore

/// The topics a consumer-group member subscribes to, read from its JoinGroup protocol metadata
/// (Kafka's ConsumerProtocolSubscription: `version:int16 topics:[string] …`; every version
/// starts with the topics).
enum ConsumerSubscription {
    /// The subscribed topics, or nil when the metadata is not a consumer subscription (then a
    /// caller must assume the member may use any topic).
    static func topics(in metadata: ByteBuffer) -> Set<String>? {
        var buffer = metadata
        guard let version = buffer.readInteger(as: Int16.self), version >= 0,
              let count = buffer.readInteger(as: Int32.self), count >= 0,
              // Each topic takes at least its 2-byte length: a larger count is a lie.
              Int(count) * 2 <= buffer.readableBytes
        else { return nil }
        var topics = Set<String>()
        for _ in 0..<count {
            guard let length = buffer.readInteger(as: Int16.self), length >= 0,
                  let name = buffer.readString(length: Int(length))
            else { return nil }
            topics.insert(name)
        }
        return topics
    }
}
