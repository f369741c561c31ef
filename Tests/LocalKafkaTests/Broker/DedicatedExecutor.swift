import Dispatch

/// Runs a task tree on a serial Dispatch queue of its own instead of Swift's cooperative pool.
///
/// Test suites run in parallel, and some tests block pool threads (synchronous storage tests,
/// waits on child processes); on a two-core machine the pool has two threads. An in-process
/// broker run under this executor keeps answering while the pool is busy, so deadlines measured
/// against it test the broker, not the neighbouring tests.
final class DedicatedExecutor: TaskExecutor {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
