import Testing
@testable import HitKeep

@Suite struct DomainNameTests {
    @Test func lowercasesAndTrims() throws {
        #expect(try DomainName.normalize("  Shop.Example.COM ") == "shop.example.com")
    }

    @Test func localhostIsTheOneSingleLabelSite() throws {
        #expect(try DomainName.normalize(" LocalHost ") == "localhost")
        #expect(try DomainName.normalize("app.localhost") == "app.localhost")
    }

    @Test(arguments: ["https://example.com", "example.com/path", "example.com:8080", "www.example.com", "localhost:3000",
                      "local", "com", "192.168.0.1", "[::1]", "exa mple.com", "-bad.com", "bad-.com", "a..b", "", "ex_ample.com",
                      "bücher.de", String(repeating: "a.", count: 127) + "com"])
    func refusesWhatIsNotABareHostName(_ text: String) {
        #expect(throws: DomainError.self) { try DomainName.normalize(text) }
    }
}

@Suite struct EmailAddressTests {
    @Test func trimsAndKeysCaseInsensitively() throws {
        let email = try #require(EmailAddress.normalize("  Ada@Example.com\n"))
        #expect(email == "Ada@Example.com")
        #expect(EmailAddress.key(email) == "ada@example.com")
    }

    @Test(arguments: ["", "ada", "ada@", "@example.com", "a@b@c", "a b@example.com", "ada@example.com\u{0}",
                      String(repeating: "a", count: 65) + "@example.com", "ada@" + String(repeating: "x", count: 10_000)])
    func refusesWhatCannotBeAnAddress(_ text: String) {
        #expect(EmailAddress.normalize(text) == nil)
    }
}

@Suite struct TextValidationTests {
    @Test func labelsAreTrimmedAndBounded() {
        #expect(TextValidation.label("  grafana-reader ", maximum: 120) == "grafana-reader")
        #expect(TextValidation.label(String(repeating: "x", count: 120), maximum: 120) != nil)
        #expect(TextValidation.label(String(repeating: "x", count: 121), maximum: 120) == nil)
        #expect(TextValidation.label("   ", maximum: 120) == nil)
        #expect(TextValidation.label("a\u{7}b", maximum: 120) == nil)
        #expect(TextValidation.label("a\u{85}b", maximum: 120) == nil)
    }

    @Test func timeZonesComeFromTheTzDatabase() {
        #expect(TimeZoneName.isKnown("Europe/Berlin"))
        #expect(TimeZoneName.isKnown("UTC"))
        #expect(!TimeZoneName.isKnown("Mars/Olympus"))
        #expect(!TimeZoneName.isKnown("../../etc/passwd"))
        #expect(!TimeZoneName.isKnown("Europe"))
    }
}
