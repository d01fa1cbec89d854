/// Hears of every `PostgresError` as it is made, so that a process can count its database errors
/// (the pool's scoreboard does) without every caller reporting them. Set once at start, before any
/// connection is made; nil, the default, costs one load per error.
public enum PostgresErrorObserver {
    // A process-wide setting written once at start-up, before the process starts any other thread
    // (the roll-up's breakdown closings), so that every thread that makes errors reads it as set.
    nonisolated(unsafe) public static var observe: ((PostgresError) -> Void)?
}
