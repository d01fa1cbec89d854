import ArgumentParser
import Foundation
import HitKeep
import PostgresClient
import Scoreboard

#if canImport(Glibc)
import Glibc
#endif

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run a supervised pool of FastCGI workers for nginx to pass /api/ and /ingest to."
    )

    private static let environment = ProcessInfo.processInfo.environment

    @Option(help: "Unix socket path or host:port to listen on; omit when fd 0 is already a listening socket (env: HITKEEP_SOCKET).")
    var socket: String?

    @Option(help: "Worker processes; default two per core (env: HITKEEP_WORKERS).")
    var workers: Int = environment["HITKEEP_WORKERS"].flatMap(Int.init) ?? 2 * ProcessInfo.processInfo.activeProcessorCount

    // A new worker costs about 25 ms of CPU (start-up, a PostgreSQL connection, first statements);
    // one every 10 000 requests was 2 % of a busy 2-core host, one every 100 000 is 0.2 %.
    @Option(help: "Replace a worker after this many requests; 0 for never (env: HITKEEP_MAX_REQUESTS).")
    var maxRequests: Int = environment["HITKEEP_MAX_REQUESTS"].flatMap(Int.init) ?? 100_000

    @Option(help: "Permissions of a unix socket, octal (env: HITKEEP_SOCKET_MODE).")
    var socketMode: String = environment["HITKEEP_SOCKET_MODE"] ?? "0660"

    @Option(help: "Seconds to let in-flight requests finish on SIGTERM (env: HITKEEP_SHUTDOWN_TIMEOUT).")
    var shutdownTimeout: Int = environment["HITKEEP_SHUTDOWN_TIMEOUT"].flatMap(Int.init) ?? 30

    @Option(help: "Seconds a worker may spend on one request before it is killed and replaced; 0 for no limit (env: HITKEEP_REQUEST_TIMEOUT).")
    var requestTimeout: Int = environment["HITKEEP_REQUEST_TIMEOUT"].flatMap(Int.init) ?? 60

    @Option(help: "host:port to serve Prometheus metrics on (GET /metrics), for a private network only; unset: none (env: HITKEEP_METRICS_ADDRESS).")
    var metricsAddress: String?

    @OptionGroup var database: DatabaseOptions

    /// `--socket`, else `HITKEEP_SOCKET`; neither means fd 0.
    private var socketAddress: String? {
        socket ?? Self.environment["HITKEEP_SOCKET"]
    }

    /// `--metrics-address`, else `HITKEEP_METRICS_ADDRESS`; neither (or an empty value) means no listener.
    private var metricsListenAddress: String? {
        (metricsAddress ?? Self.environment["HITKEEP_METRICS_ADDRESS"]).flatMap { $0.isEmpty ? nil : $0 }
    }

    func validate() throws {
        guard workers >= 1 && workers <= 512 else { throw ValidationError("--workers must be between 1 and 512") }
        guard maxRequests >= 0 else { throw ValidationError("--max-requests must not be negative") }
        guard mode_t(socketMode, radix: 8) != nil else { throw ValidationError("--socket-mode must be octal, e.g. 0660") }
        guard shutdownTimeout >= 0 else { throw ValidationError("--shutdown-timeout must not be negative") }
        do {
            _ = try database.configuration.retentionDays
        } catch let refusal as DomainError {
            throw ValidationError("HITKEEP_RETENTION_DAYS: \(refusal.detail)")
        }
        guard requestTimeout >= 0 else { throw ValidationError("--request-timeout must not be negative") }
        if DatabasePoolMode(environmentValue: Self.environment["HITKEEP_DATABASE_POOL_MODE"]) == nil {
            let known = DatabasePoolMode.allCases.map(\.rawValue).joined(separator: " or ")
            throw ValidationError("HITKEEP_DATABASE_POOL_MODE must be \(known)")
        }
        if let reads = database.configuration.readDatabaseURL, let problem = PostgresConnection.connectionStringProblem(reads) {
            throw ValidationError("HITKEEP_READ_DATABASE_URL is not a libpq URI or conninfo string: \(problem)")
        }
        if let socket = socketAddress, ListeningSocket.Address(socket) == nil {
            throw ValidationError("--socket must be a unix socket path or host:port")
        }
        if let metrics = metricsListenAddress {
            guard case .tcp? = ListeningSocket.Address(metrics) else {
                throw ValidationError("--metrics-address must be host:port, e.g. 10.0.0.11:9464")
            }
        }
    }

    func run() throws {
        LoggingSetup.bootstrap()
        let logger = LoggingSetup.logger("hitkeep.supervisor")
        let listening: ListeningSocket
        if let socket = socketAddress, let address = ListeningSocket.Address(socket) {
            do {
                listening = try ListeningSocket.open(address, mode: mode_t(socketMode, radix: 8)!)
            } catch let failure as ListeningSocket.Failure {
                throw ValidationError(failure.description)
            }
        } else if let inherited = ListeningSocket.inherited() {
            listening = inherited
        } else {
            throw ValidationError("give --socket, or start with a listening socket on fd 0")
        }

        // Workers read their settings from the environment: the database URL may hold a password,
        // which must not show in `ps`.
        var environment = ProcessInfo.processInfo.environment
        environment["HITKEEP_DATABASE_URL"] = database.configuration.databaseURL
        environment["HITKEEP_MAX_REQUESTS"] = String(maxRequests)
        // Slots for twice the workers and a few more: a rolling restart starts the new workers
        // while the old ones finish their requests.
        let scoreboard: Scoreboard
        do {
            scoreboard = try Scoreboard.create(slots: 2 * workers + 2, routes: PoolRoutes.labels())
        } catch {
            throw ValidationError("\(error)")
        }
        let record = SupervisorRecord(board: scoreboard, settings: .init(
            workers: workers, requestTimeoutNanoseconds: UInt64(requestTimeout) * 1_000_000_000, maxRequests: maxRequests))
        var metrics: MetricsListener?
        if let address = metricsListenAddress.flatMap(ListeningSocket.Address.init) {
            do {
                metrics = try MetricsListener.open(address)
            } catch let failure as ListeningSocket.Failure {
                throw ValidationError("--metrics-address: \(failure.description)")
            }
        }
        let spawner = ChildSpawner(listeningDescriptor: listening.descriptor, scoreboardDescriptor: scoreboard.descriptor!,
                                   environment: environment)
        if let reads = database.configuration.readDatabaseURL {
            // Workers connect to the standby on their first stats read, and again after it failed:
            // one that is not there yet only sends reads to the primary until it is.
            do {
                _ = try PostgresConnection(url: reads, applicationName: "hitkeep-check")
            } catch let error as PostgresError {
                logger.warning("the standby of HITKEEP_READ_DATABASE_URL does not answer; stats are read from the primary until it does",
                               metadata: ["error": .string(error.message)])
            }
        }
        logger.info("serving", metadata: [
            "socket": .string(listening.address?.description ?? "inherited fd \(listening.descriptor)"),
            "workers": .stringConvertible(workers),
            "metrics": .string(metrics.map { "http://\($0.address)/metrics" } ?? "off"),
        ])
        metrics?.start(board: scoreboard, logger: logger)
        let supervisor = Supervisor(
            spawner: spawner,
            listening: listening,
            settings: .init(workers: workers, shutdownTimeout: .seconds(shutdownTimeout),
                            requestTimeoutNanoseconds: UInt64(requestTimeout) * 1_000_000_000),
            record: record,
            logger: logger
        )
        let status = supervisor.run()
        throw ExitCode(status)
    }
}
