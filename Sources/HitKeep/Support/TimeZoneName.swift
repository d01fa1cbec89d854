import Foundation

/// IANA time zone names as PostgreSQL on Debian knows them: the files of the system's tz database.
enum TimeZoneName {
    static let databasePath = "/usr/share/zoneinfo"

    static func isKnown(_ name: String) -> Bool {
        guard (1...64).contains(name.utf8.count),
              name.utf8.allSatisfy({ byte in
                  (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                      || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
                      || byte == UInt8(ascii: "+")
              }),
              !name.hasPrefix("/"), !name.contains("//"), !name.split(separator: "/").contains(where: { $0.hasPrefix(".") })
        else { return false }
        // The directory also holds tables and notes (leapseconds, zone.tab): a zone is a TZif file.
        guard let file = FileHandle(forReadingAtPath: databasePath + "/" + name) else { return false }
        defer { try? file.close() }
        return (try? file.read(upToCount: 4)) == Data("TZif".utf8)
    }

    static func validate(_ name: String) throws(DomainError) -> String {
        guard isKnown(name) else {
            throw .invalid("invalid_timezone", "timezone must be an IANA time zone name such as Europe/Berlin")
        }
        return name
    }
}
