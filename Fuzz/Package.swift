// swift-tools-version: 6.0
// libFuzzer targets for the feed decoder and the configuration loader. Kept out of the main
// package: a libFuzzer binary has no `main` of its own. Run with Fuzz/run.sh.
import PackageDescription

let fuzzFlags: [SwiftSetting] = [.unsafeFlags(["-parse-as-library", "-sanitize=fuzzer,address"])]
let fuzzLink: [LinkerSetting] = [.unsafeFlags(["-sanitize=fuzzer,address"])]

let package = Package(
    name: "urgentflow-fuzz",
    dependencies: [.package(path: "urgentflow")],  // a link to ".." (the package identity comes from its name)
    targets: [
        .executableTarget(name: "FuzzFeedDecoder", dependencies: [.product(name: "FlowCore", package: "urgentflow")],
                          swiftSettings: fuzzFlags, linkerSettings: fuzzLink),
        .executableTarget(name: "FuzzConfigLoader", dependencies: [.product(name: "FlowCore", package: "urgentflow")],
                          swiftSettings: fuzzFlags, linkerSettings: fuzzLink),
    ]
)
