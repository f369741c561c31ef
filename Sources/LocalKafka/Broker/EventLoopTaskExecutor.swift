import NIOCore

/// Runs tasks (and actors) on one NIO event loop thread instead of Swift's cooperative pool.
///
/// The broker is often embedded in a process that does other work on the pool (tests,
/// benchmarks, the sandbox); on a two-core machine two busy pool threads would otherwise stall
/// every request for as long as they stay busy, and Kafka clients give up on a broker that is
/// silent for 10 s.
final class EventLoopTaskExecutor: TaskExecutor, SerialExecutor {
    private let loop: any EventLoop

    init(_ loop: any EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute {
            job.runSynchronously(isolatedTo: self.asUnownedSerialExecutor(), taskExecutor: self.asUnownedTaskExecutor())
        }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}
