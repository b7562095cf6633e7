import ArgumentParser
import FlowScenarios
#if canImport(Glibc)
import Glibc
#endif

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a bundled scenario, or a benchmark stream of any size, reproducibly.",
        discussion: "Scenarios: \(ScenarioName.allCases.map(\.rawValue).joined(separator: ", ")). `bench` writes a mixed-feed stream of --lines valid messages. The same name and seed always give the same bytes.")

    @Argument(help: "A scenario name, or 'bench'.")
    var name: String

    @Option(help: "Seed of the generator.")
    var seed: UInt64 = ScenarioGenerator.defaultSeed

    @Option(parsing: .unconditional, help: "Lines to write for 'bench'.")   // `-5` a value to refuse, not a missing one
    var lines: Int = 1_000_000

    @Option(name: .customLong("compress-time"), parsing: .unconditional,
            help: "For 'bench': event time runs this many times faster, the same messages packed closer (the system's real pace is about 1,150 messages a day; 250 gives about 2,000,000 a week).")
    var timeCompression: Int = 1

    @Option(name: .shortAndLong, help: "Output file (default: stdout).")
    var output: String?

    func validate() throws {
        if name != "bench" && ScenarioName(rawValue: name) == nil {
            throw ValidationError("unknown scenario '\(name)' (\(ScenarioName.allCases.map(\.rawValue).joined(separator: ", ")), bench)")
        }
        if lines < 1 { throw ValidationError("--lines must be at least 1") }
        if timeCompression < 1 { throw ValidationError("--compress-time must be at least 1") }
        if timeCompression != 1 && name != "bench" { throw ValidationError("--compress-time is for 'bench' only") }
    }

    func run() throws {
        let fd: Int32
        if let output {
            fd = open(output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0 else { throw CLIError("cannot write \(output): \(String(cString: strerror(errno)))") }
        } else {
            fd = 1
        }
        let out = BufferedOutput(fd: fd)
        let emit: (String) -> Void = { out.write($0); out.write("\n") }
        if name == "bench" {
            ScenarioGenerator.generateBenchmark(messages: lines, seed: seed, timeCompression: timeCompression, emit: emit)
        } else {
            ScenarioGenerator.generate(ScenarioName(rawValue: name)!, seed: seed, emit: emit)
        }
        out.flush()
        if fd != 1 { close(fd) }
    }
}
