import Dispatch

/// Runs blocking librdkafka calls on dispatch threads, never on Swift's cooperative pool
/// (a blocked cooperative thread stalls every task of the process).
enum RDBlocking {
    /// Shared by calls that may run side by side (flush, metadata, watermarks, admin results).
    static let shared = DispatchQueue(label: "switchback.kafka.blocking", attributes: .concurrent)

    static func run<T: Sendable>(
        on queue: DispatchQueue = shared, _ body: @escaping @Sendable () throws(KafkaError) -> T
    ) async throws(KafkaError) -> T {
        let result: Result<T, KafkaError> = await withCheckedContinuation { continuation in
            queue.async {
                do throws(KafkaError) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }
}
