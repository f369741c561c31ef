import Foundation

/// Runs blocking work (waiting for a child process, reading a pipe, `poll`) on a thread of its
/// own and suspends until it is done.
///
/// Swift's cooperative pool has one thread per core (two on CI machines). Tests run in parallel
/// on it, and so do the LocalKafka brokers and clients they start; a test that blocks a pool
/// thread for seconds stalls every broker in the process, and unrelated tests time out.
public func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try work() })
        }
        thread.start()
    }
}
