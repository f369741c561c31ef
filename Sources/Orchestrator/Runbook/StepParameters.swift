import Consensus
import Sites
import SwitchbackConfiguration

/// A step's parameters: strings by key, read through typed accessors whose errors name the key,
/// the value found and the form expected.
///
/// Runbook YAML keeps parameters simple on purpose (scalars and lists of scalars), so they can
/// be substituted (`${site}`), journaled and shown verbatim; the action gives them their type.
public struct StepParameters: Sendable, Hashable, Codable, ExpressibleByDictionaryLiteral {
    public var values: [String: String]

    public init(_ values: [String: String] = [:]) { self.values = values }
    public init(dictionaryLiteral elements: (String, String)...) {
        self.values = Dictionary(elements, uniquingKeysWith: { _, last in last })
    }

    public subscript(key: String) -> String? { values[key] }

    /// The value of a required key.
    public func string(_ key: String) throws(StepActionError) -> String {
        guard let value = values[key] else { throw .parameter(key, "is required and missing") }
        return value
    }

    public func string(_ key: String, default fallback: String) -> String { values[key] ?? fallback }

    public func int(_ key: String) throws(StepActionError) -> Int {
        try parse(key, as: "a whole number, e.g. 3") { Int($0) }
    }

    public func int(_ key: String, default fallback: Int) throws(StepActionError) -> Int {
        values[key] == nil ? fallback : try int(key)
    }

    /// A duration written as in the configuration (`500ms`, `30s`, `5m`).
    public func duration(_ key: String) throws(StepActionError) -> Duration {
        try parse(key, as: "a duration such as 500ms, 30s or 5m") { DurationText.parse($0) }
    }

    public func duration(_ key: String, default fallback: Duration) throws(StepActionError) -> Duration {
        values[key] == nil ? fallback : try duration(key)
    }

    public func bool(_ key: String, default fallback: Bool) throws(StepActionError) -> Bool {
        guard values[key] != nil else { return fallback }
        return try parse(key, as: "true or false") { text in
            switch text.lowercased() {
            case "true", "yes": true
            case "false", "no": false
            default: nil
            }
        }
    }

    /// A list, written in YAML as a sequence (stored comma-separated) or as `a,b,c`.
    public func list(_ key: String) -> [String] {
        guard let value = values[key] else { return [] }
        return value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    public func site(_ key: String) throws(StepActionError) -> SiteID {
        let name = try string(key)
        guard let site = SiteID(rawValue: name) else {
            throw .parameter(key, "is '\(name)', not a site name: \(SiteID.problem(with: name) ?? "invalid")")
        }
        return site
    }

    public func epoch(_ key: String) throws(StepActionError) -> Epoch {
        try parse(key, as: "an epoch number, e.g. 7") { UInt64($0).map { Epoch($0) } }
    }

    private func parse<T>(_ key: String, as form: String, _ convert: (String) -> T?) throws(StepActionError) -> T {
        let text = try string(key)
        guard let value = convert(text.trimmingCharacters(in: .whitespaces)) else {
            throw .parameter(key, "is '\(text)', expected \(form)")
        }
        return value
    }
}

import Foundation
