// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "hitkeep",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "hitkeep", targets: ["hitkeep"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-http-structured-headers.git", from: "1.7.0"),
    ],
    targets: [
        // System libraries, found through pkg-config.
        .systemLibrary(name: "CFastCGI", pkgConfig: "fcgi", providers: [.apt(["libfcgi-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CArgon2", pkgConfig: "libargon2", providers: [.apt(["libargon2-dev"])]),
        // The few lines that must be C: async-signal-safe handlers.
        .target(name: "CSupport"),

        // Low-level text: the calendar, timestamps, decimal and hex digits, bytes appended as text.
        // Below the transport and the application alike, so it depends on nothing of the project.
        .target(name: "TextFormats"),
        // Transport: FastCGI requests in, responses out. Knows nothing of HitKeep.
        .target(name: "FastCGI", dependencies: ["CFastCGI", "CSupport", "TextFormats"]),
        // libpq client: connections, parameters, rows, transactions. Knows nothing of HitKeep.
        .target(name: "PostgresClient", dependencies: ["CLibPQ", "TextFormats"]),
        // The pool's scoreboard in shared memory: workers count, the supervisor enforces the request
        // timeout, metrics and the status page read it. Knows nothing of HitKeep.
        .target(name: "Scoreboard", dependencies: ["CSupport"]),
        // The application: HTTP model, router, authentication and the features.
        .target(
            name: "HitKeep",
            dependencies: [
                "FastCGI",
                "PostgresClient",
                "TextFormats",
                "Scoreboard",
                "CArgon2",
                "CSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "RawStructuredFieldValues", package: "swift-http-structured-headers"),
            ]
        ),
        // The executable: CLI subcommands and the process supervisor.
        .executableTarget(
            name: "hitkeep",
            dependencies: [
                "HitKeep",
                "FastCGI",
                "PostgresClient",
                "TextFormats",
                "Scoreboard",
                "CSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "HitKeepTests", dependencies: [
            "HitKeep",
            .product(name: "RawStructuredFieldValues", package: "swift-http-structured-headers"),
        ]),
        .testTarget(name: "PostgresClientTests", dependencies: ["PostgresClient"]),
        .testTarget(name: "TextFormatsTests", dependencies: ["TextFormats"]),
        .testTarget(name: "ScoreboardTests", dependencies: ["Scoreboard"]),
    ]
)
