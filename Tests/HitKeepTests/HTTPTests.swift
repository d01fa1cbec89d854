import Testing
@testable import HitKeep

@Suite struct QueryParametersTests {
    @Test func decodesPercentEscapesAndPlusAndKeepsRepeatedKeys() throws {
        let query = try #require(QueryParameters(parsing: "filter=path%3A%2Fa+b&filter=device:mobile&empty=&flag"))
        #expect(query.all("filter") == ["path:/a b", "device:mobile"])
        #expect(query["empty"] == "")
        #expect(query["flag"] == "")
        #expect(query["missing"] == nil)
    }

    @Test(arguments: ["a=%", "a=%4", "a=%zz", "a=%ff"])
    func refusesBrokenEscapesAndInvalidUTF8(_ text: String) {
        #expect(QueryParameters(parsing: text) == nil)
    }
}

@Suite struct CookiesTests {
    @Test func parsesEveryPairAndStripsQuotes() {
        let cookies = Cookies.parse(#"a=1; hk_token="xyz";  b = 2 ;junk"#)
        #expect(cookies.map(\.name) == ["a", "hk_token", "b"])
        #expect(cookies.map(\.value) == ["1", "xyz", "2"])
    }
}

@Suite struct RouterTests {
    private var router: Router<String> {
        var router = Router<String>()
        router.add(.get, "/api/sites", "list")
        router.add(.post, "/api/sites", "create")
        router.add(.get, "/api/sites/{site_id}", "show")
        router.add(.delete, "/api/sites/{site_id}/members/{user_id}", "remove")
        return router
    }

    @Test func capturesPathParameters() {
        guard case .matched(let handler, let parameters, let route) = router.resolve(.delete, path: "/api/sites/S1/members/U2") else {
            Issue.record("no match"); return
        }
        #expect(handler == "remove")
        #expect(router.routes[route].method == .delete && router.routes[route].pattern == "/api/sites/{site_id}/members/{user_id}")
        #expect(parameters == ["site_id": "S1", "user_id": "U2"])
    }

    @Test func listsAllowedMethodsForAKnownPath() {
        guard case .methodNotAllowed(let allowed) = router.resolve(.put, path: "/api/sites") else {
            Issue.record("expected 405"); return
        }
        #expect(allowed.map(\.rawValue) == ["GET", "POST"])
    }

    @Test(arguments: ["/api/sites/", "/api//sites", "/api/nope", "api/sites", "/api/sites/S1/extra"])
    func doesNotMatchOtherPaths(_ path: String) {
        guard case .notFound = router.resolve(.get, path: path) else {
            Issue.record("\(path) matched"); return
        }
    }
}

@Suite struct RequestLogMessageTests {
    @Test func writesMillisecondsWithThreeDecimals() {
        #expect(RequestLogMessage.make(method: "GET", path: "/api/sites", status: 200, microseconds: 1_234, id: "ab")
            == "GET /api/sites 200 1.234ms id=ab")
        #expect(RequestLogMessage.make(method: "POST", path: "/ingest", status: 503, microseconds: 12_005, id: "x")
            == "POST /ingest 503 12.005ms id=x")
        #expect(RequestLogMessage.make(method: "GET", path: "/", status: 404, microseconds: 40, id: "")
            == "GET / 404 0.040ms id=")
    }
}
