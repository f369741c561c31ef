/// A runbook action made of two functions (dry run and run), so the data-plane actions read as
/// one table in ``DataPlaneActions`` instead of one type each.
struct DataPlaneStepAction: StepAction {
    let name: String
    let parameterSpecs: [StepParameterSpec]?
    let planBody: @Sendable (StepContext) async throws -> StepPlan
    let runBody: @Sendable (StepContext) async throws -> StepOutcome

    init(
        _ name: String, _ specs: [StepParameterSpec], plan: @escaping @Sendable (StepContext) async throws -> StepPlan,
        run: @escaping @Sendable (StepContext) async throws -> StepOutcome
    ) {
        self.name = name
        self.parameterSpecs = specs
        self.planBody = plan
        self.runBody = run
    }

    func plan(_ context: StepContext) async throws -> StepPlan { try await planBody(context) }
    func run(_ context: StepContext) async throws -> StepOutcome { try await runBody(context) }
}

extension StepContext {
    /// Runs `body` until it succeeds, again every `interval` of the run's clock while it fails
    /// with a retriable precondition (a peer not caught up yet), for at most `limit` (the step's
    /// timeout when it has one). The last failure is thrown after that.
    func untilReady<T: Sendable>(
        limit: Duration? = nil, interval: Duration = .milliseconds(100), _ body: () async throws -> T
    ) async throws -> T {
        let rounds = max(1, Int((limit ?? timeout ?? .seconds(30)) / interval))
        var round = 0
        while true {
            do {
                return try await body()
            } catch let error as StepActionError where error.retriable && error.code == .preconditionFailed && round < rounds {
                round += 1
                try await clock.sleep(for: interval)
            }
        }
    }
}
