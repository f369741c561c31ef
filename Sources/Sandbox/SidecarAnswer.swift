/// `GET /v1/active` as an application reads it (contracts.md). `state` is decoded optionally:
/// agents from before the data plane do not send it, and their answer then means `serving`.
public struct SidecarAnswer: Decodable, Hashable, Sendable {
    /// What the sidecar tells an application to do.
    public enum State: String, Decodable, Sendable {
        case serving, promoting, switching, fenced
    }

    public var epoch: UInt64
    public var activeSite: String
    public var bootstrapServers: [String]
    public var servingHere: Bool
    public var mirrorFrom: String?
    public var mirrorTo: String?
    /// Absent from agents without the data plane.
    public var state: State?

    /// `state`, or `serving` for an agent that does not send one.
    public var effectiveState: State { state ?? .serving }

    public init(
        epoch: UInt64, activeSite: String, bootstrapServers: [String], servingHere: Bool, mirrorFrom: String? = nil,
        mirrorTo: String? = nil, state: State? = nil
    ) {
        self.epoch = epoch
        self.activeSite = activeSite
        self.bootstrapServers = bootstrapServers
        self.servingHere = servingHere
        self.mirrorFrom = mirrorFrom
        self.mirrorTo = mirrorTo
        self.state = state
    }

    private enum CodingKeys: String, CodingKey {
        case epoch, activeSite, bootstrapServers, servingHere, mirrorFrom, mirrorTo, state
    }

    /// A state this sandbox does not know is read as `fenced`: pausing is the safe reading.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        epoch = try container.decode(UInt64.self, forKey: .epoch)
        activeSite = try container.decode(String.self, forKey: .activeSite)
        bootstrapServers = try container.decode([String].self, forKey: .bootstrapServers)
        servingHere = try container.decode(Bool.self, forKey: .servingHere)
        mirrorFrom = try container.decodeIfPresent(String.self, forKey: .mirrorFrom)
        mirrorTo = try container.decodeIfPresent(String.self, forKey: .mirrorTo)
        state = try container.decodeIfPresent(String.self, forKey: .state).map { State(rawValue: $0) ?? .fenced }
    }
}
