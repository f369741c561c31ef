import Foundation

/// `report`: writes what the run has done so far — every finished step's outputs — to a file,
/// so a drill leaves a record an auditor can read. Overwrites the file: idempotent.
public struct ReportAction: StepAction {
    public let name = "report"

    public init() {}

    public var parameterSpecs: [StepParameterSpec]? {
        [.init("path", required: true, "the file to write (its directory must exist)"), .init("title", "the report's first line")]
    }

    public func plan(_ context: StepContext) async throws -> StepPlan {
        let path = try context.parameters.string("path")
        let directory = (path as NSString).deletingLastPathComponent
        let writable = FileManager.default.isWritableFile(atPath: directory.isEmpty ? "." : directory)
        return StepPlan(
            summary: "write the run's report to \(path)",
            checks: [.init("\(directory.isEmpty ? "." : directory) is writable", satisfied: writable, detail: writable ? "yes" : "no such writable directory")],
            changes: ["write \(path)"])
    }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        let path = try context.parameters.string("path")
        var lines = [
            context.parameters.string("title", default: "\(context.runbook) report"),
            "run: \(context.runID)", "epoch: \(context.epoch.rawValue)", "written: \(ISO8601DateFormatter().string(from: Date()))",
            "parameters:",
        ]
        lines += context.runParameters.sorted { $0.key < $1.key }.map { "  \($0.key): \($0.value)" }
        lines.append("steps:")
        for (step, outputs) in context.outputs.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(step):")
            lines += outputs.sorted { $0.key < $1.key }.map { "    \($0.key): \($0.value)" }
        }
        do {
            try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw StepActionError(.failed, "cannot write the report \(path): \(error.localizedDescription)", retriable: false)
        }
        return StepOutcome(summary: "wrote the report to \(path)", outputs: ["path": path])
    }
}
