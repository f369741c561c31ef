import Foundation

/// One answer of an agent's `GET /v1/active`: which site is active, how to reach its cluster,
/// and whether applications may use it now.
public struct ActiveSite: Sendable, Hashable, CustomStringConvertible {
    /// What the agent tells applications to do (see deploy/README.md, "Applications").
    public enum State: String, Sendable, Hashable, CaseIterable {
        /// The active site serves and its consumer groups are positioned: use it.
        case serving
        /// A new active site is positioning consumer groups: do not create clients yet.
        case promoting
        /// A planned switchover is in progress: stop producing.
        case switching
        /// No active site can be confirmed from this agent: pause.
        case fenced
    }

    public var epoch: UInt64
    public var activeSite: String
    public var bootstrapServers: [String]
    public var state: State
    public var servingHere: Bool

    public init(epoch: UInt64, activeSite: String, bootstrapServers: [String], state: State, servingHere: Bool) {
        self.epoch = epoch
        self.activeSite = activeSite
        self.bootstrapServers = bootstrapServers
        self.state = state
        self.servingHere = servingHere
    }

    /// Whether an application should produce and consume now.
    public var isUsable: Bool { state == .serving && !bootstrapServers.isEmpty }

    /// Whether the application must re-create its Kafka clients when it moves from `self` to `next`.
    public func needsNewClients(_ next: ActiveSite) -> Bool {
        epoch != next.epoch || bootstrapServers != next.bootstrapServers
    }

    public var description: String {
        "epoch \(epoch): \(activeSite) \(state.rawValue) (\(bootstrapServers.joined(separator: ",")))"
    }

    /// Reads an answer. The agent is outside input: every field is checked and the error says which.
    public init(json: [UInt8]) throws(SidecarError) {
        struct Wire: Decodable {
            var epoch: Int64?
            var activeSite: String?
            var bootstrapServers: [String]?
            var state: String?
            var servingHere: Bool?
        }
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: Data(json))
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let key = context.codingPath.first?.stringValue ?? "the answer"
            throw SidecarError("\(key) has the wrong type in the sidecar's answer: \(context.debugDescription)")
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            throw SidecarError("\(context.codingPath[0].stringValue) is unreadable in the sidecar's answer: \(context.debugDescription)")
        } catch {
            throw SidecarError("the sidecar's answer is not JSON: \(error)")
        }
        guard let epochNumber = wire.epoch else { throw SidecarError("epoch is missing from the sidecar's answer") }
        guard let epoch = UInt64(exactly: epochNumber) else { throw SidecarError("epoch \(epochNumber) is negative in the sidecar's answer") }
        guard let site = wire.activeSite, !site.isEmpty else { throw SidecarError("activeSite is missing or empty in the sidecar's answer") }
        guard let servers = wire.bootstrapServers else { throw SidecarError("bootstrapServers is missing from the sidecar's answer") }
        // An agent from before the data plane answered without a state; it only said who was active.
        let stateText = wire.state ?? State.serving.rawValue
        guard let state = State(rawValue: stateText) else {
            throw SidecarError("state \(stateText) is not one of \(State.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.init(epoch: epoch, activeSite: site, bootstrapServers: servers, state: state, servingHere: wire.servingHere ?? false)
    }
}

/// The sidecar could not be asked or answered something unusable.
public struct SidecarError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
