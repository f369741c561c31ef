import SwitchbackConfiguration
import Testing

/// `status_page:` — who may read the agent's HTML status page.
@Suite("Status page access from the configuration")
struct StatusPageConfigurationTests {
    @Test("absent: behind the operator token")
    func defaultsToTheOperatorToken() throws {
        #expect(try parse(minimal).statusPage == .operatorToken)
    }

    @Test("public and operator are read as written")
    func bothChoices() throws {
        #expect(try parse(minimal + "status_page: public\n").statusPage == .public)
        #expect(try parse(minimal + "status_page: operator\n").statusPage == .operatorToken)
    }

    @Test("another word or a mapping is refused, naming the key and the choices")
    func refused() throws {
        let word = try #require(failure(minimal + "status_page: token\n"))
        #expect(word.keyPath == "status_page")
        #expect("\(word)".contains("\"token\""))
        #expect("\(word)".contains("operator, public"))
        let misspelt = try #require(failure(minimal + "status_page: pubic\n"))
        #expect("\(misspelt)".contains("did you mean 'public'?"))
        let mapping = try #require(failure(minimal + "status_page: { public: true }\n"))
        #expect(mapping.keyPath == "status_page")
    }
}
