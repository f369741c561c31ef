import Testing

@testable import Mirror

@Suite("Naming policy")
struct NamingPolicyTests {
    let prefix = TopicNaming(policy: .prefix, knownSites: [dcA, dcB, dcC])
    let identity = TopicNaming(policy: .identity, knownSites: [dcA, dcB, dcC])

    @Test("prefix: a local topic gets the source site's prefix")
    func prefixLocal() {
        #expect(prefix.targetTopic(for: topic("orders"), from: dcA, to: dcB) == topic("dc-a.orders"))
        #expect(prefix.decision(for: topic("orders"), from: dcA, to: dcB) == .mirror(as: topic("dc-a.orders")))
    }

    @Test("prefix: a remote topic from the target is never mirrored back")
    func prefixNoLoop() {
        #expect(prefix.targetTopic(for: topic("dc-b.orders"), from: dcA, to: dcB) == nil)
        #expect(prefix.decision(for: topic("dc-b.orders"), from: dcA, to: dcB) == .notMirrored(.cameFromTarget(dcB)))
        // Anywhere in the prefix chain counts.
        #expect(prefix.decision(for: topic("dc-c.dc-b.orders"), from: dcA, to: dcB) == .notMirrored(.cameFromTarget(dcB)))
    }

    @Test("prefix: chained hops are prefixed again, as MirrorMaker 2 does")
    func prefixChained() {
        #expect(prefix.targetTopic(for: topic("dc-c.orders"), from: dcA, to: dcB) == topic("dc-a.dc-c.orders"))
        #expect(prefix.sitePrefixes(of: topic("dc-a.dc-c.orders")) == [dcA, dcC])
    }

    @Test("prefix: only known site names count as prefixes")
    func prefixUnknownSites() {
        #expect(prefix.sitePrefixes(of: topic("payments.eu")) == [])
        #expect(prefix.targetTopic(for: topic("payments.eu"), from: dcA, to: dcB) == topic("dc-a.payments.eu"))
        let twoSites = TopicNaming(policy: .prefix, knownSites: [dcA, dcB])
        // dc-c is not a site of this deployment, so its "prefix" is part of the name.
        #expect(twoSites.sitePrefixes(of: topic("dc-c.dc-b.orders")) == [])
        #expect(twoSites.targetTopic(for: topic("dc-c.dc-b.orders"), from: dcA, to: dcB) == topic("dc-a.dc-c.dc-b.orders"))
        // A bare "site." is not a prefix chain.
        #expect(prefix.sitePrefixes(of: topic("dc-b.")) == [])
    }

    @Test("internal topics and same-site flows are never mirrored", arguments: [NamingPolicy.prefix, .identity])
    func neverMirrored(policy: NamingPolicy) {
        let naming = TopicNaming(policy: policy, knownSites: [dcA, dcB])
        #expect(naming.decision(for: topic("__consumer_offsets"), from: dcA, to: dcB) == .notMirrored(.internalTopic))
        #expect(naming.decision(for: topic("__switchback_state"), from: dcA, to: dcB) == .notMirrored(.internalTopic))
        #expect(naming.decision(for: topic("orders"), from: dcA, to: dcA) == .notMirrored(.sameSite))
    }

    @Test("prefix: a name that would exceed 249 characters is refused with a reason")
    func prefixTooLong() {
        let long = topic(String(repeating: "o", count: 249))
        guard case .notMirrored(.targetNameTooLong(let name)) = prefix.decision(for: long, from: dcA, to: dcB) else {
            Issue.record("expected targetNameTooLong")
            return
        }
        #expect(name.utf8.count == 254)
    }

    @Test("identity: same name; nothing is refused by name")
    func identityNames() {
        #expect(identity.targetTopic(for: topic("orders"), from: dcA, to: dcB) == topic("orders"))
        #expect(identity.targetTopic(for: topic("dc-b.orders"), from: dcA, to: dcB) == topic("dc-b.orders"))
    }

    @Test("inverse: the source topic behind a target topic")
    func inverse() {
        #expect(prefix.sourceTopic(forTarget: topic("dc-a.orders"), from: dcA, to: dcB) == topic("orders"))
        #expect(prefix.sourceTopic(forTarget: topic("dc-a.dc-c.orders"), from: dcA, to: dcB) == topic("dc-c.orders"))
        #expect(prefix.sourceTopic(forTarget: topic("orders"), from: dcA, to: dcB) == nil)
        #expect(prefix.sourceTopic(forTarget: topic("dc-c.orders"), from: dcA, to: dcB) == nil)
        // dc-a.dc-b.orders would come from dc-b.orders, which dc-a never mirrors to dc-b.
        #expect(prefix.sourceTopic(forTarget: topic("dc-a.dc-b.orders"), from: dcA, to: dcB) == nil)
        #expect(prefix.sourceTopic(forTarget: topic("dc-a.__consumer_offsets"), from: dcA, to: dcB) == nil)
        #expect(identity.sourceTopic(forTarget: topic("orders"), from: dcA, to: dcB) == topic("orders"))
        #expect(identity.sourceTopic(forTarget: topic("__consumer_offsets"), from: dcA, to: dcB) == nil)
    }

    @Test("inverse undoes forward for every mirrored topic", arguments: [NamingPolicy.prefix, .identity])
    func inverseRoundTrip(policy: NamingPolicy) {
        let naming = TopicNaming(policy: policy, knownSites: [dcA, dcB, dcC])
        for name in ["orders", "dc-c.orders", "payments.eu", "dc-b.x", "a-b_c.d", "dc-c.dc-a.z"] {
            guard let target = naming.targetTopic(for: topic(name), from: dcA, to: dcB) else { continue }
            #expect(naming.sourceTopic(forTarget: target, from: dcA, to: dcB) == topic(name))
        }
    }
}
