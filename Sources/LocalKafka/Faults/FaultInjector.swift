import KafkaWire
import Logging
import Synchronization

/// The faults currently injected into a broker, shared by the listener (which connections to
/// accept) and the request path (which requests to delay or fail).
///
/// Every change is logged at `notice`, so a test's log shows when the "datacenter" vanished.
public final class FaultInjector: Sendable {
    /// What happens to a newly accepted connection.
    enum ConnectionAdmission: Equatable {
        case serve
        /// Keep the socket open and answer nothing until the fault heals: a vanished site, as
        /// clients see it.
        case blackhole
        /// Close at once.
        case refuse
    }

    /// What happens to one request.
    enum RequestAdmission: Equatable {
        case serve(delay: Duration?)
        case fail(KafkaErrorCode, delay: Duration?)
        /// Read and dropped without an answer: the blackhole began while the request was
        /// already past the listener, which holds requests that arrive later.
        case drop
    }

    private struct State {
        var blackholed = false
        var refusing = false
        var latencyForAll: Duration?
        var latencyByAPI: [ApiKey: Duration] = [:]
        var failures: [ApiKey: (error: KafkaErrorCode, remaining: Int)] = [:]
        /// Requests held until the blackhole ends, by waiter id.
        var heldRequests: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Waiters cancelled before they were registered, so they do not wait at all.
        var cancelledWaiters: Set<UInt64> = []
    }

    private let state = Mutex(State())
    private let nextWaiterID = Atomic<UInt64>(0)
    private let logger: Logger
    /// Called (outside the lock) when a blackhole begins, so open connections can be dropped.
    private let onBlackhole: Mutex<(@Sendable () -> Void)?> = Mutex(nil)

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Adds `fault` to the active set.
    public func inject(_ fault: Fault) {
        let startsBlackhole = state.withLock { state -> Bool in
            switch fault {
            case .blackhole:
                defer { state.blackholed = true }
                return !state.blackholed
            case .refuse:
                state.refusing = true
            case .latency(let delay, let api):
                if let api { state.latencyByAPI[api] = delay } else { state.latencyForAll = delay }
            case .failRequests(let api, let error, let count):
                state.failures[api] = (error, count)
            }
            return false
        }
        logger.notice("fault injected", metadata: ["fault": "\(fault)"])
        if startsBlackhole, let drop = onBlackhole.withLock({ $0 }) {
            drop()
        }
    }

    /// Removes every fault: the broker serves normally again.
    public func heal() {
        let held = state.withLock { state in
            defer { state = State() }
            return Array(state.heldRequests.values)
        }
        logger.notice("faults healed", metadata: ["releasedRequests": "\(held.count)"])
        for request in held { request.resume() }
    }

    /// Returns once no blackhole is active (at once when none is).
    ///
    /// A request that arrives during a blackhole waits here, as a packet to a vanished site
    /// waits in TCP's retransmissions, and is served when the site returns: clients recover as
    /// soon as the fault heals instead of after their request timeout.
    func waitWhileBlackholed() async {
        let id = nextWaiterID.wrappingAdd(1, ordering: .relaxed).newValue
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let waits = state.withLock { state -> Bool in
                    if state.cancelledWaiters.remove(id) != nil || !state.blackholed { return false }
                    state.heldRequests[id] = continuation
                    return true
                }
                if !waits { continuation.resume() }
            }
        } onCancel: {
            let held = state.withLock { state in
                guard let continuation = state.heldRequests.removeValue(forKey: id) else {
                    state.cancelledWaiters.insert(id)
                    return CheckedContinuation<Void, Never>?.none
                }
                return continuation
            }
            held?.resume()
        }
    }

    /// The active faults, for the control endpoint's status.
    public var activeFaults: [Fault] {
        state.withLock { state in
            var faults: [Fault] = []
            if state.blackholed { faults.append(.blackhole) }
            if state.refusing { faults.append(.refuse) }
            if let delay = state.latencyForAll { faults.append(.latency(delay, api: nil)) }
            for (api, delay) in state.latencyByAPI.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                faults.append(.latency(delay, api: api))
            }
            for (api, failure) in state.failures.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                faults.append(.failRequests(api: api, error: failure.error, count: failure.remaining))
            }
            return faults
        }
    }

    func setBlackholeHandler(_ handler: @escaping @Sendable () -> Void) {
        onBlackhole.withLock { $0 = handler }
    }

    func admitConnection() -> ConnectionAdmission {
        state.withLock { state in
            if state.blackholed { return .blackhole }
            if state.refusing { return .refuse }
            return .serve
        }
    }

    /// Decides the fate of one request of `api`, consuming one injected failure if armed.
    func admitRequest(_ api: ApiKey) -> RequestAdmission {
        let (admission, failed): (RequestAdmission, KafkaErrorCode?) = state.withLock { state in
            if state.blackholed { return (.drop, nil) }
            let delay = state.latencyByAPI[api] ?? state.latencyForAll
            if var failure = state.failures[api], failure.remaining > 0 {
                failure.remaining -= 1
                state.failures[api] = failure.remaining > 0 ? failure : nil
                return (.fail(failure.error, delay: delay), failure.error)
            }
            return (.serve(delay: delay), nil)
        }
        if let failed {
            logger.notice("injected failure answered", metadata: ["api": "\(api)", "error": "\(failed)"])
        }
        return admission
    }
}
