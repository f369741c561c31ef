import Foundation
import Synchronization

/// The latest probe outcome of every site, for status and readiness.
public final class ProbeBoard: Sendable {
    /// One site's latest probe, as the status API shows it.
    public struct View: Codable, Hashable, Sendable {
        public var healthy: Bool
        public var latencyMilliseconds: Int64
        public var failure: String?
        public var at: Date
    }

    private let views = Mutex<[String: View]>([:])

    public init() {}

    /// Records an outcome; returns the previous health, `nil` for the first probe.
    @discardableResult
    func record(site: String, _ outcome: ProbeOutcome, at: Date = Date()) -> Bool? {
        views.withLock { views in
            let previous = views[site]?.healthy
            views[site] = View(healthy: outcome.healthy, latencyMilliseconds: outcome.latency.milliseconds, failure: outcome.failure, at: at)
            return previous
        }
    }

    public var all: [String: View] { views.withLock { $0 } }
}
