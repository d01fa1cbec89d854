import Foundation
import Logging

/// One line per event on stderr, at the level of `HITKEEP_LOG_LEVEL` (default info).
enum LoggingSetup {
    static func bootstrap() {
        let level = ProcessInfo.processInfo.environment["HITKEEP_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            LineLogHandler(label: label, level: level)
        }
    }

    static func logger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger[metadataKey: "pid"] = .string(String(getpid()))
        return logger
    }
}
