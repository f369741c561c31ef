/// Where a flow is in its life, as operators see it.
public enum FlowPhase: Hashable, Sendable, CustomStringConvertible {
    /// Not started.
    case idle
    /// Provisioning topics, loading the offset map, finding where to resume.
    case starting
    /// Copying records.
    case running
    /// Connected and positioned, but copying nothing until resumed.
    case paused
    /// Copying until the target has everything the source had when the drain began.
    case draining
    /// Waiting out a retriable failure before starting over.
    case retrying
    /// Finished: stopped or drained. `run()` has returned or is returning.
    case stopped
    /// Gave up on a failure that retrying cannot fix.
    case failed(MirrorError)

    public var description: String {
        switch self {
        case .idle: "idle"
        case .starting: "starting"
        case .running: "running"
        case .paused: "paused"
        case .draining: "draining"
        case .retrying: "retrying"
        case .stopped: "stopped"
        case .failed(let error): "failed: \(error.message)"
        }
    }
}

/// The control logic of a flow: lifecycle, pause/resume, drain and stop, and what to do after
/// a failure. Pure: each event returns the action the flow performs; the flow does the I/O
/// and reports back with the next event.
struct FlowStateMachine: Sendable {
    enum State: Sendable {
        case idle
        /// `paused` and `draining` remember what was asked while setting up.
        case settingUp(paused: Bool, draining: Bool)
        case copying(paused: Bool)
        /// `targets` is nil until the source's log ends have been read.
        case draining(targets: [TopicPartition: Offset]?)
        case retrying(paused: Bool, draining: Bool)
        case finishing
        case stopped
        case failed(MirrorError)
    }

    /// What the flow must do next.
    enum Action: Equatable, Sendable {
        /// Nothing.
        case none
        /// Provision, load the map, find resume positions, assign the source partitions.
        case setUp
        /// Stop fetching and copying; keep positions.
        case pauseCopying
        /// Fetch and copy again.
        case resumeCopying
        /// Read the source's log ends of the assigned partitions; they are the drain's targets.
        case readSourceEnds
        /// Wait for every acknowledgement, store the offset map, close the clients, end `run()`.
        case finish
        /// Close the clients, wait `backoff`, and set up again.
        case retry(after: Duration)
        /// Close the clients and end `run()` with this error.
        case fail(MirrorError)
    }

    private(set) var state: State = .idle
    /// Wait before starting over after a retriable failure.
    let retryBackoff: Duration

    init(retryBackoff: Duration) {
        self.retryBackoff = retryBackoff
    }

    var phase: FlowPhase {
        switch state {
        case .idle: .idle
        case .settingUp: .starting
        case .copying(let paused): paused ? .paused : .running
        case .draining: .draining
        case .retrying: .retrying
        case .finishing, .stopped: .stopped
        case .failed(let error): .failed(error)
        }
    }

    /// Whether records should be copied now.
    var isCopying: Bool {
        switch state {
        case .copying(let paused): !paused
        case .draining: true
        default: false
        }
    }

    /// The drain's targets, once known.
    var drainTargets: [TopicPartition: Offset]? {
        if case .draining(let targets) = state { return targets }
        return nil
    }

    var isFinished: Bool {
        switch state {
        case .finishing, .stopped, .failed: true
        default: false
        }
    }

    mutating func start() -> Action {
        guard case .idle = state else { return .none }
        state = .settingUp(paused: false, draining: false)
        return .setUp
    }

    /// Set-up done; the source partitions are assigned.
    mutating func setUpFinished() -> Action {
        guard case .settingUp(let paused, let draining) = state else { return .none }
        if draining {
            state = .draining(targets: nil)
            return .readSourceEnds
        }
        state = .copying(paused: paused)
        return paused ? .pauseCopying : .resumeCopying
    }

    mutating func pause() -> Action {
        switch state {
        case .settingUp(_, let draining): state = .settingUp(paused: true, draining: draining)
        case .retrying(_, let draining): state = .retrying(paused: true, draining: draining)
        case .copying(false):
            state = .copying(paused: true)
            return .pauseCopying
        case .idle, .copying(true), .draining, .finishing, .stopped, .failed:
            // A drain is a promise to finish; it is not paused.
            break
        }
        return .none
    }

    mutating func resume() -> Action {
        switch state {
        case .settingUp(_, let draining): state = .settingUp(paused: false, draining: draining)
        case .retrying(_, let draining): state = .retrying(paused: false, draining: draining)
        case .copying(true):
            state = .copying(paused: false)
            return .resumeCopying
        default:
            break
        }
        return .none
    }

    /// Copy until the target has everything the source has now, then finish.
    mutating func drain() -> Action {
        switch state {
        case .idle:
            state = .settingUp(paused: false, draining: true)
            return .setUp
        case .settingUp(let paused, _): state = .settingUp(paused: paused, draining: true)
        case .retrying(let paused, _): state = .retrying(paused: paused, draining: true)
        case .copying:
            state = .draining(targets: nil)
            return .readSourceEnds
        case .draining, .finishing, .stopped, .failed:
            break
        }
        return .none
    }

    /// The source's log ends when the drain began. `positions` are the next source offsets
    /// the flow has dealt with.
    mutating func sourceEndsRead(_ ends: [TopicPartition: Offset], positions: [TopicPartition: Offset]) -> Action {
        guard case .draining(nil) = state else { return .none }
        state = .draining(targets: ends)
        return progressed(positions)
    }

    /// The flow dealt with more records: is the drain done?
    mutating func progressed(_ positions: [TopicPartition: Offset]) -> Action {
        guard case .draining(let targets?) = state else { return .none }
        let done = targets.allSatisfy { partition, end in (positions[partition] ?? 0) >= end }
        guard done else { return .none }
        state = .finishing
        return .finish
    }

    mutating func stop() -> Action {
        switch state {
        case .idle, .retrying:
            state = .stopped
            return .finish
        case .settingUp, .copying, .draining:
            state = .finishing
            return .finish
        case .finishing, .stopped, .failed:
            return .none
        }
    }

    /// A set-up or copy session failed.
    mutating func failed(_ error: MirrorError) -> Action {
        switch state {
        case .finishing, .stopped, .failed:
            return .none
        case .idle, .settingUp, .copying, .draining, .retrying:
            break
        }
        guard error.isRetriable else {
            state = .failed(error)
            return .fail(error)
        }
        let (paused, draining): (Bool, Bool) =
            switch state {
            case .settingUp(let paused, let draining), .retrying(let paused, let draining): (paused, draining)
            case .copying(let paused): (paused, false)
            case .draining: (false, true)
            default: (false, false)
            }
        state = .retrying(paused: paused, draining: draining)
        return .retry(after: retryBackoff)
    }

    /// The back-off after a failure is over.
    mutating func backoffElapsed() -> Action {
        guard case .retrying(let paused, let draining) = state else { return .none }
        state = .settingUp(paused: paused, draining: draining)
        return .setUp
    }

    /// Everything is flushed and closed.
    mutating func finished() {
        if case .failed = state { return }
        state = .stopped
    }
}
