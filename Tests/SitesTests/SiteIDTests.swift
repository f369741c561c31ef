import Foundation
import Sites
import Testing

@Suite("Site names")
struct SiteIDTests {
    @Test("valid site names are accepted", arguments: ["dc-a", "a", "0", "eu-west-1", String(repeating: "x", count: 63)])
    func validSites(name: String) throws {
        let site = try SiteID(validating: name)
        #expect(site.rawValue == name)
        #expect(SiteID(rawValue: name) == site)
    }

    @Test("invalid site names are rejected with the bad value and the reason",
          arguments: ["", "DC-A", "dc_a", "dc.a", "dc/a", "dc a", "dé", String(repeating: "x", count: 64)])
    func invalidSites(name: String) {
        #expect(SiteID(rawValue: name) == nil)
        do {
            _ = try SiteID(validating: name)
            Issue.record("accepted \(name)")
        } catch {
            #expect(error.name == name)
            #expect(error.description.contains("\"\(name)\"") && !error.problem.isEmpty)
        }
    }

    @Test("decoding checks the name too: a site in a peer message or an operator request is outside input")
    func decodingValidates() throws {
        let decoded = try JSONDecoder().decode([SiteID].self, from: Data(#"["dc-a","dc-b"]"#.utf8))
        #expect(decoded == ["dc-a", "dc-b"])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([SiteID].self, from: Data(#"["dc-a","../etc"]"#.utf8)) }
        #expect(String(decoding: try JSONEncoder().encode(SiteID("dc-a")), as: UTF8.self) == #""dc-a""#)
    }
}
