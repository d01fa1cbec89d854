/// Hears of every `PostgresError` as it is made, so that a process can count its database errors
/// (the pool's scoreboard does) without every caller reporting them. Set once at start, before any
/// connection is made; nil, the default, costs one load per error.
public enum PostgresErrorObserver {
    // A process-wide setting written once at start-up by a single-threaded process (a worker or
    // the roll-up); errors are made on that same thread.
    nonisolated(unsafe) public static var observe: ((PostgresError) -> Void)?
}
