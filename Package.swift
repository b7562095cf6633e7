// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "urgentflow",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "urgentflow", targets: ["urgentflow"]),
        .library(name: "FlowCore", targets: ["FlowCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // The pure core: feed contract, validation, flow model, rules, alert lifecycle,
        // deterministic replay engine and sitrep. No I/O, no curses, no wall clock.
        .target(
            name: "FlowCore",
            dependencies: [
                "CCacheHints",
                .product(name: "Yams", package: "Yams"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            // The core runs single-owner (one engine per thread, no shared mutable state), so the
            // runtime exclusivity checks only cost time on the replay path: measured 8-12% of a
            // headless replay (README, "Measured"). The compile-time checks stay.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        // Cache hints for the core's hot path (a prefetch, huge pages for the de-duplication
        // table): C, as Swift has no prefetch. No I/O, no effect on results.
        .target(name: "CCacheHints"),
        // Reproducible scenario generator (volumes calibrated on ../shared/data).
        .target(name: "FlowScenarios", dependencies: ["FlowCore"]),
        // Adapters around the core: line sources (files, stdin, TCP) and the on-disk journal.
        .target(
            name: "FlowIngest",
            dependencies: [
                "FlowCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The live service around the engine: recovery from the journal, the alert log, the
        // consumer the ingest hub feeds, notifications to leads.
        .target(name: "FlowLive", dependencies: ["FlowCore", "FlowIngest", "FlowNotify"]),
        // ncursesw binding (shim header; see ../shared/reference/terminal-ui.md).
        .systemLibrary(
            name: "CNcursesw",
            providers: [.apt(["libncursesw5-dev"])]
        ),
        // Terminal UI: cell grid, widgets, layout, themes, ncurses backend, plain line mode.
        .target(name: "FlowTerminal", dependencies: ["FlowCore", "CNcursesw"]),
        // The thin executable.
        .executableTarget(
            name: "urgentflow",
            dependencies: [
                "FlowCore", "FlowTerminal", "FlowScenarios", "FlowIngest", "FlowNotify", "FlowLive",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Notifications: rotas, escalation, acknowledgement, silences, flapping, digests (pure policy),
        // alert log, on-disk outbox and delivery adapters (command, webhook, Alertmanager).
        .target(
            name: "FlowNotify",
            dependencies: [
                "FlowCore",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "FlowCoreTests", dependencies: ["FlowCore"], exclude: ["FuzzRegressions"]),
        .testTarget(
            name: "FlowNotifyTests",
            dependencies: [
                "FlowNotify", "FlowCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "FlowIngestTests", dependencies: ["FlowIngest", "FlowCore", "FlowLive"]),
        .testTarget(name: "FlowTerminalTests", dependencies: ["FlowTerminal", "FlowCore"]),
        .testTarget(name: "EndToEndTests"),  // the real binary in tmux (needs `swift build` first)
        .executableTarget(name: "urgentflow-bench-ui", dependencies: ["FlowCore", "FlowTerminal", "CNcursesw"]),  // Benchmarks/dashboard-bench.sh
        .executableTarget(name: "urgentflow-bench-decode", dependencies: ["FlowCore"]),  // decode+validate lines/s of a JSON Lines file
        .testTarget(
            name: "ScenarioTests",
            dependencies: ["FlowCore", "FlowScenarios"],
            resources: []
        ),
    ]
)
