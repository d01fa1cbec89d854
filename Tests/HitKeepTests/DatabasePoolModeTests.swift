import Testing
@testable import HitKeep

@Suite struct DatabasePoolModeTests {
    @Test func unsetOrEmptyMeansEachWorkerHasItsOwnSession() {
        #expect(DatabasePoolMode(environmentValue: nil) == .session)
        #expect(DatabasePoolMode(environmentValue: "") == .session)
    }

    @Test func namesPgBouncersPoolModesInAnyCase() {
        #expect(DatabasePoolMode(environmentValue: "transaction") == .transaction)
        #expect(DatabasePoolMode(environmentValue: "Transaction") == .transaction)
        #expect(DatabasePoolMode(environmentValue: "session") == .session)
    }

    @Test func anythingElseIsUnknown() {
        #expect(DatabasePoolMode(environmentValue: "statement") == nil)
        #expect(DatabasePoolMode(environmentValue: "pgbouncer") == nil)
    }
}
