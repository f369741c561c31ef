extension Result where Failure == any Error {
    /// The outcome of async `body`, so clean-up can run before the error is rethrown.
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
