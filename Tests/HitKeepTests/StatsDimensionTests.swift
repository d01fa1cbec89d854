import Foundation
import PostgresClient
import Testing
@testable import HitKeep

/// The registry of stats dimensions: its public names stay as API.md §5.3 has them, it agrees with
/// the rollup trigger of migrations/0004, and the SQL, filters and endpoint come from it.
@Suite struct StatsDimensionTests {
    /// The response's top-list keys, in order, and the filter types: public API.
    static let publicListKeys = [
        "top_pages", "top_landing_pages", "top_exit_pages", "top_referrers", "top_devices", "top_browsers", "top_os",
        "top_countries", "top_languages", "top_utm_sources", "top_utm_mediums", "top_utm_campaigns", "top_hostnames",
    ]
    static let publicFilterTypes = [
        "path", "referrer", "device", "browser", "os", "country", "language", "utm_source", "utm_medium", "utm_campaign",
        "hostname",
    ]

    @Test func keepsThePublicNames() {
        #expect(StatsDimension.lists.compactMap(\.list?.key) == Self.publicListKeys)
        #expect(StatsController.topListKeys.map(\.0) == Self.publicListKeys)
        #expect(StatsDimension.filters.map(\.name) == Self.publicFilterTypes)
        // Entry and exit pages are lists, not filters; their values filter by path.
        #expect(!StatsDimension.entry.isFilter && !StatsDimension.exit.isFilter)
        #expect(StatsDimension.entry.valueFilter == .path && StatsDimension.exit.valueFilter == .path)
    }

    @Test func namesAndColumnsAreUniqueAndPlainSQL() {
        let names = StatsDimension.all.map(\.name)
        #expect(Set(names).count == names.count)
        let keys = StatsDimension.lists.compactMap(\.list?.key)
        #expect(Set(keys).count == keys.count)
        // Names go into SQL as quoted literals and column aliases, columns as identifiers.
        for dimension in StatsDimension.all {
            #expect(dimension.name.wholeMatch(of: /[a-z][a-z_]*/) != nil, "\(dimension.name)")
            #expect(dimension.column.wholeMatch(of: /[a-z][a-z_]*/) != nil, "\(dimension.column)")
            #expect(StatsDimension.named(dimension.name) == dimension)
            #expect(!dimension.label.isEmpty)
            if let list = dimension.list {
                #expect(!list.label.isEmpty && !list.group.isEmpty)
                // A row of every list can be clicked into a filter.
                #expect(dimension.valueFilter != nil, "\(dimension.name)")
            }
        }
        let eventColumns = StatsDimension.all.filter(\.isEventColumn).map(\.column)
        #expect(Set(eventColumns).count == eventColumns.count)
        // entry_exit_counts keeps the path of a session's first and last page, nothing else.
        for dimension in StatsDimension.lists where !dimension.isEventColumn {
            #expect(dimension.column == "path")
        }
    }

    /// The trigger that folds events into `dimension_counts` names each count by dimension, and
    /// `entry_exit_counts` by kind: those names and columns must be the registry's. Migrations are
    /// never edited, so the registry follows them: the function as the last migration that defines
    /// it (0004, 0020, then 0022) has it. Since 0022 it counts each column in a grouping set of its
    /// own and names the set by `grouped_dimension`, whose name for GROUPING's mask of the columns
    /// (the grouped one's bit 0, the first column's the most significant) must be the column's.
    /// (The integration suite checks the same against the database's own functions.)
    @Test func agreesWithTheRollupTrigger() throws {
        let directory = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("migrations")
        let texts = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }.sorted()
            .map { try String(contentsOf: directory.appendingPathComponent($0), encoding: .utf8) }
        // Defines, not names: partition_events (0022, 0023) creates triggers that EXECUTE FUNCTION it.
        let text = try #require(texts.last { $0.contains(/CREATE (OR REPLACE )?FUNCTION roll_up_events\(\)/) })
        let namer = try #require(texts.last { $0.contains("FUNCTION grouped_dimension(") })
        let definitions = try #require(texts.first { $0.contains("CREATE TABLE entry_exit_counts") })
        let counting = try #require(text.range(of: "INSERT INTO dimension_counts"))
        let grouping = try #require(text[..<counting.lowerBound].matches(of: /GROUPING\(([a-z_,\s]+)\)/).last)
        let columns = grouping.1.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let sets = try #require(text[..<counting.lowerBound].range(of: "GROUPING SETS (", options: .backwards))
        let setColumns = text[sets.upperBound..<counting.lowerBound].matches(of: /\(([a-z_]+)\)/).map { String($0.1) }
        #expect(setColumns == columns)
        let names = Dictionary(uniqueKeysWithValues: namer.matches(of: /WHEN (\d+) THEN '([a-z_]+)'/).map { (Int($0.1)!, String($0.2)) })
        let pairs = columns.enumerated().map { index, column in
            "\(names[1 << (columns.count - 1 - index)] ?? "?")=\(column)"
        }
        #expect(pairs == StatsDimension.all.filter(\.isEventColumn).map { "\($0.name)=\($0.column)" })
        #expect(definitions.contains("kind     text NOT NULL CHECK (kind IN ('entry', 'exit'))"))
        #expect(StatsDimension.entry.source == .sessionEntry(column: "path"))
        #expect(StatsDimension.exit.source == .sessionExit(column: "path"))
    }

    @Test func parsesEveryFilterTypeAndNoOther() throws {
        for dimension in StatsDimension.filters {
            // A value the dimension can hold, as a filter would name it.
            let value = dimension.knownValues?.first ?? (dimension.values == .countryCode ? "DE" : "x")
            #expect(try StatsFilter.parse("\(dimension.name):\(value)") == StatsFilter(dimension: dimension, value: value))
        }
        for type in ["entry", "exit", "city", "referrer_host", "PATH"] {
            #expect(throws: DomainError.self) { try StatsFilter.parse("\(type):x") }
        }
        #expect(StatsFilter.conditions([StatsFilter(dimension: .referrer, value: "a"), StatsFilter(dimension: .os, value: "b")]).sql
                == " AND referrer_host = $1 AND os = $2")
    }

    @Test func enumeratedValuesMatchInAnyCaseAndUnknownOnesAreRefusedWithTheKnownOnes() throws {
        #expect(try StatsFilter.parse("device:Mobile").value == "mobile")
        #expect(try StatsFilter.parse("browser:FIREFOX").value == "Firefox")
        #expect(try StatsFilter.parse("os:macos").value == "macOS")
        #expect(try StatsFilter.parse("country:de").value == "DE")
        #expect(try StatsFilter.parse("device:(none)").value == "")
        #expect(try StatsFilter.parse("path:/Pricing").value == "/Pricing", "free text keeps its case")
        // Hosts are stored lower-cased and without www., as sites are registered.
        #expect(try StatsFilter.parse("hostname:WWW.Blog.Example.com").value == "blog.example.com")
        #expect(try StatsFilter.parse("referrer:www.Example.com").value == "www.Example.com", "imported referrers keep theirs")
        do {
            _ = try StatsFilter.parse("device:phone")
            Issue.record("device:phone was accepted")
        } catch {
            #expect(error.code == "invalid_filter" && error.detail.contains("desktop, mobile, tablet"))
        }
        // Every page view has a host: `(none)` would silently mean the site's own domain.
        do {
            _ = try StatsFilter.parse("hostname:(none)")
            Issue.record("hostname:(none) was accepted")
        } catch {
            #expect(error.code == "invalid_filter" && error.detail.contains("hostname:<the site's domain>"))
        }
        for text in ["country:Germany", "country:D", "country:1A", "browser:Netscape", "os:BeOS"] {
            #expect(throws: DomainError.self) { try StatsFilter.parse(text) }
        }
    }

    @Test func theSQLListsEveryDimension() {
        let grouping = TopListSQL.eventDimensions(from: "e", where: "true").sql
        for dimension in StatsDimension.lists where dimension.isEventColumn {
            #expect(grouping.contains("('\(dimension.name)', g.\(dimension.column))"))
        }
        // A visitor's profile and a campaign's values are a grouping set each; every other column
        // is one of its own.
        #expect(grouping.contains("""
            GROUP BY GROUPING SETS ((device, browser, os, country, language), (utm_source, utm_medium, utm_campaign), \
            (path), (referrer_host), (hostname))
            """))
        let range = StatsRange(from: Date(timeIntervalSince1970: 0), to: Date(timeIntervalSince1970: 3600))
        let ends = TopListSQL.sessionEnds(in: range)
        #expect(ends.sql == "((kind = 'entry' AND boundary < $1) OR (kind = 'exit' AND boundary >= $2))")
        #expect(TopListSQL.dimensionColumns.sql
                == "path, referrer_host, device, browser, os, country, language, utm_source, utm_medium, utm_campaign, hostname")
    }

    /// The site's own page views are stored with the hostname '': a filter naming the site's domain
    /// selects them, and lists name them by it.
    @Test func theSitesDomainIsItsEmptyHostname() throws {
        let filters = [try StatsFilter.parse("hostname:Example.com"), try StatsFilter.parse("hostname:blog.example.com"),
                       try StatsFilter.parse("referrer:example.com")]
        #expect(StatsFilter.resolved(filters, siteDomain: "example.com").map(\.value) == ["", "blog.example.com", "example.com"])
        #expect(StatsDimension.hostname.emptyName(siteDomain: "example.com") == "example.com")
        #expect(StatsDimension.referrer.emptyName(siteDomain: "example.com") == "(none)")
        let ranked = TopListSQL.ranked("SELECT 'hostname' AS list, '' AS value, 1 AS n", limit: 3, siteID: "S")
        #expect(ranked.sql.contains("CASE WHEN list IN ('hostname') THEN (SELECT domain FROM sites WHERE id = $1)"))
    }

    @Test func theEndpointDescribesEachDimension() throws {
        let document = try JSONParser.parse(StatsDimensionsController.body)
        guard case .array(let dimensions)? = document["dimensions"] else {
            Issue.record("no dimensions array")
            return
        }
        #expect(dimensions.count == StatsDimension.all.count)
        let entry = try #require(dimensions.first { if case .string("entry")? = $0["name"] { true } else { false } })
        #expect(String(decoding: JSON.object([("e", entry)]).encoded(), as: UTF8.self) == """
            {"e":{"name":"entry","label":"Entry page","values":"path","filter":false,"value_filter":"path",\
            "list":"top_landing_pages","list_label":"Entry pages","group":"Pages"}}
            """)
        if case .string(let none)? = document["none"] { #expect(none == "(none)") } else { Issue.record("no none") }
    }
}
