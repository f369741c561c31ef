import Testing

@testable import Mirror

@Suite("Flow state machine: lifecycle, pause, drain, stop, failures")
struct FlowStateMachineTests {
    let orders0 = tp("orders", 0)
    let orders1 = tp("orders", 1)

    func running() -> FlowStateMachine {
        var machine = FlowStateMachine(retryBackoff: .seconds(2))
        _ = machine.start()
        _ = machine.setUpFinished()
        return machine
    }

    @Test("start sets up, then copies")
    func startThenCopy() {
        var machine = FlowStateMachine(retryBackoff: .seconds(2))
        #expect(machine.phase == .idle)
        #expect(machine.start() == .setUp)
        #expect(machine.phase == .starting)
        #expect(machine.start() == .none)
        #expect(machine.setUpFinished() == .resumeCopying)
        #expect(machine.phase == .running)
        #expect(machine.isCopying)
    }

    @Test("pause and resume; a pause asked during set-up holds once set up")
    func pauseAndResume() {
        var machine = running()
        #expect(machine.pause() == .pauseCopying)
        #expect(!machine.isCopying)
        #expect(machine.pause() == .none)
        #expect(machine.resume() == .resumeCopying)
        #expect(machine.isCopying)

        var early = FlowStateMachine(retryBackoff: .seconds(2))
        _ = early.start()
        #expect(early.pause() == .none)
        #expect(early.setUpFinished() == .pauseCopying)
        #expect(early.phase == .paused)
    }

    @Test("drain reads the source ends, then finishes once every partition reached them")
    func drain() {
        var machine = running()
        #expect(machine.drain() == .readSourceEnds)
        #expect(machine.phase == .draining)
        #expect(machine.isCopying)
        #expect(machine.sourceEndsRead([orders0: 10, orders1: 5], positions: [orders0: 4]) == .none)
        #expect(machine.progressed([orders0: 10, orders1: 4]) == .none)
        // A drain cannot be paused: it is a promise to finish.
        #expect(machine.pause() == .none)
        #expect(machine.progressed([orders0: 10, orders1: 5]) == .finish)
        #expect(machine.isFinished)
        machine.finished()
        #expect(machine.phase == .stopped)
    }

    @Test("a drain of a paused flow copies again; a drain already satisfied finishes at once")
    func drainWhilePaused() {
        var machine = running()
        _ = machine.pause()
        #expect(machine.drain() == .readSourceEnds)
        #expect(machine.isCopying)
        #expect(machine.sourceEndsRead([orders0: 3], positions: [orders0: 3]) == .finish)
    }

    @Test("a drain asked before start sets up and drains")
    func drainBeforeStart() {
        var machine = FlowStateMachine(retryBackoff: .seconds(2))
        #expect(machine.drain() == .setUp)
        #expect(machine.setUpFinished() == .readSourceEnds)
        #expect(machine.drainTargets == nil)
        #expect(machine.sourceEndsRead([:], positions: [:]) == .finish)
    }

    @Test("stop finishes from any live state, once")
    func stop() {
        var machine = running()
        #expect(machine.stop() == .finish)
        #expect(machine.stop() == .none)
        var idle = FlowStateMachine(retryBackoff: .seconds(2))
        #expect(idle.stop() == .finish)
        #expect(idle.phase == .stopped)
        #expect(idle.start() == .none)
    }

    @Test("a retriable failure backs off and sets up again, keeping pause and drain; others fail for good")
    func failures() {
        var machine = running()
        _ = machine.pause()
        let transient = MirrorError(.kafka, "broker gone", isRetriable: true)
        #expect(machine.failed(transient) == .retry(after: .seconds(2)))
        #expect(machine.phase == .retrying)
        #expect(machine.backoffElapsed() == .setUp)
        #expect(machine.setUpFinished() == .pauseCopying)

        var draining = running()
        _ = draining.drain()
        _ = draining.failed(transient)
        _ = draining.backoffElapsed()
        #expect(draining.setUpFinished() == .readSourceEnds)

        var broken = running()
        let fatal = MirrorError(.cannotResume, "another writer")
        #expect(broken.failed(fatal) == .fail(fatal))
        #expect(broken.phase == .failed(fatal))
        #expect(broken.failed(transient) == .none)
        #expect(broken.isFinished)
    }

    @Test("stop during the back-off finishes without setting up again")
    func stopWhileRetrying() {
        var machine = running()
        _ = machine.failed(MirrorError(.kafka, "x", isRetriable: true))
        #expect(machine.stop() == .finish)
        #expect(machine.backoffElapsed() == .none)
    }
}
