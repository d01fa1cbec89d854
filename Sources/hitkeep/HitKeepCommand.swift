import ArgumentParser
import HitKeep

@main
struct HitKeepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hitkeep",
        abstract: "Self-hosted web analytics: FastCGI workers behind nginx, on PostgreSQL.",
        version: Configuration.version,
        subcommands: [ServeCommand.self, WorkerCommand.self, MigrateCommand.self, UserCommand.self, SiteCommand.self, ClientCommand.self, DevCommand.self, RollUpCommand.self]
    )
}
