import Testing

@testable import Mirror

@Suite("Topic and group selection")
struct SelectionTests {
    @Test("patterns match whole names only")
    func wholeName() throws {
        let selection = try TopicSelection(include: ["orders", #"payments\..*"#])
        #expect(selection.selects(topic("orders")))
        #expect(!selection.selects(topic("orders-dlq")))
        #expect(!selection.selects(topic("old-orders")))
        #expect(selection.selects(topic("payments.eu")))
        #expect(!selection.selects(topic("payments")))
        #expect(selection.decision(for: topic("users")) == .notIncluded)
    }

    @Test("exclude wins over include and names the pattern")
    func exclude() throws {
        let selection = try TopicSelection(include: [".*"], exclude: ["tmp-.*", ".*-dlq"])
        #expect(selection.selects(topic("orders")))
        #expect(selection.decision(for: topic("orders-dlq")) == .excluded(pattern: ".*-dlq"))
        #expect(selection.decision(for: topic("tmp-1")) == .excluded(pattern: "tmp-.*"))
    }

    @Test("internal topics are never selected, even when included explicitly")
    func internalTopics() throws {
        let selection = try TopicSelection(include: [".*", "__consumer_offsets", "__switchback.*"])
        #expect(selection.decision(for: topic("__consumer_offsets")) == .internalName)
        #expect(selection.decision(for: topic("__switchback_offsets")) == .internalName)
        #expect(selection.selects(topic("_single_underscore")))
    }

    @Test("an empty include list selects nothing")
    func emptyInclude() throws {
        let selection = try TopicSelection(include: [])
        #expect(!selection.selects(topic("orders")))
    }

    @Test("an invalid pattern names the key, the index, the pattern and the problem")
    func invalidPattern() {
        do {
            _ = try TopicSelection(include: ["orders", "pay(ments"])
            Issue.record("invalid regex accepted")
        } catch {
            #expect(error.code == .invalidPattern)
            #expect(error.message.hasPrefix("mirror.topics.include[1]: "))
            #expect(error.message.contains("\"pay(ments\""))
            #expect(error.message.contains("not a valid regular expression: "))
        }
        do {
            _ = try GroupSelection(include: [".*"], exclude: ["ok", "x", "[z-a]"])
            Issue.record("invalid regex accepted")
        } catch {
            #expect(error.message.hasPrefix("mirror.groups.exclude[2]: "))
            #expect(error.message.contains("[z-a]"))
        }
    }

    @Test("groups: include/exclude and internal groups")
    func groups() throws {
        let selection = try GroupSelection(include: [".*"], exclude: ["console-consumer-.*"])
        #expect(selection.selects(group("billing")))
        #expect(selection.decision(for: group("console-consumer-4711")) == .excluded(pattern: "console-consumer-.*"))
        #expect(selection.decision(for: group("__switchback-mirror-dc-a")) == .internalName)
    }
}
