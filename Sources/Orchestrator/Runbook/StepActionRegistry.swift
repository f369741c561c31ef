/// The actions a runbook may name, by name. The loader refuses a runbook naming an action that
/// is not here, so a typo fails at load (and in the shipped-runbooks test), not mid-failover.
public struct StepActionRegistry: Sendable {
    private var actions: [String: any StepAction] = [:]

    public init() {}

    public init(_ actions: [any StepAction]) throws(RegistryError) {
        for action in actions { try register(action) }
    }

    /// Adds an action.
    /// - Throws: ``RegistryError`` when its name is taken or is not lowercase words joined by `-`.
    public mutating func register(_ action: any StepAction) throws(RegistryError) {
        guard Self.isValidName(action.name) else { throw RegistryError(name: action.name, problem: "is not lowercase words joined by '-'") }
        guard actions[action.name] == nil else { throw RegistryError(name: action.name, problem: "is registered twice") }
        actions[action.name] = action
    }

    public func action(named name: String) -> (any StepAction)? { actions[name] }

    /// Every registered name, sorted.
    public var names: [String] { actions.keys.sorted() }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.first != "-" && name.last != "-"
            && name.allSatisfy { ($0.isLowercase && $0.isASCII) || $0.isNumber || $0 == "-" }
    }

    /// A registration that was refused.
    public struct RegistryError: Error, Sendable, Hashable, CustomStringConvertible {
        public var name: String
        public var problem: String
        public var description: String { "step action '\(name)' \(problem)" }
    }
}
