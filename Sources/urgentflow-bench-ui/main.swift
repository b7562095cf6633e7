// Dashboard benchmark (issue 6 targets for the screen). Not a test: prints a table.
//
//   Scripts/build-release --product urgentflow-bench-ui
//   .build/release/urgentflow-bench-ui [--root DIR] [--binary PATH] [--idle-seconds N] [--frames N]
//
// 1. Frame render at 200x50: the widgets drawing a realistic boxing-day-surge snapshot into the
//    CellGrid, then the ncurses flush of that grid to a pseudo-terminal (the tick-to-tick change
//    of a replay), and the two together.
// 2. Bytes written to the terminal for an unchanged frame.
// 3. Idle CPU of the real dashboard (the `urgentflow` binary on a pty): paused, and playing slowly.
// 4. Time to first frame of `urgentflow` with no arguments (start to first screen content).
import CNcursesw
import FlowCore
import FlowTerminal
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// MARK: options

var root = FileManager.default.currentDirectoryPath
var binary: String?
var idleSeconds = 20.0
var frames = 2000
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--root": root = args.popFirst() ?? root
    case "--binary": binary = args.popFirst()
    case "--idle-seconds": idleSeconds = Double(args.popFirst() ?? "") ?? idleSeconds
    case "--frames": frames = Int(args.popFirst() ?? "") ?? frames
    default:
        FileHandle.standardError.write("usage: urgentflow-bench-ui [--root DIR] [--binary PATH] [--idle-seconds N] [--frames N]\n".data(using: .utf8)!)
        exit(2)
    }
}
let bin = binary ?? ["\(root)/.build/release/urgentflow", "\(root)/.build/debug/urgentflow"].first {
    FileManager.default.isExecutableFile(atPath: $0)
}

func log(_ s: String) { FileHandle.standardError.write((s + "\n").data(using: .utf8)!) }

// MARK: a realistic snapshot

let configPath = "\(root)/Scenarios/herts-west-essex.yaml"
let scenarioPath = "\(root)/Scenarios/boxing-day-surge.jsonl"
guard let yaml = try? String(contentsOfFile: configPath, encoding: .utf8),
      let data = FileManager.default.contents(atPath: scenarioPath) else {
    log("cannot read \(configPath) or \(scenarioPath) (use --root <package root>)")
    exit(1)
}
let config = try ConfigLoader.load(yaml: yaml, file: configPath)
let lines: [[UInt8]] = data.split(separator: 10).map(Array.init)
var player = ReplayPlayer(config: config, name: "boxing-day-surge", lines: lines, speed: 0)
player.setPaused(false, wall: 0)
// Play 60% of the surge (alerts raised, history filled), then one refresh tick further for the
// second picture: what the screen redraws between two frames of a running replay.
_ = player.advance(wall: 1, maxLines: lines.count * 6 / 10)
let snapA = player.engine.snapshot(historyPoints: 72, replay: player.status)
_ = player.play(upTo: snapA.now + FlowCore.Duration(millis: 60_000))
let snapB = player.engine.snapshot(historyPoints: 72, replay: player.status)

final class FixedDriver: DashboardDriver {
    var snap: DashboardSnapshot
    var changed = false
    init(_ s: DashboardSnapshot) { snap = s }
    func advance() -> Bool { defer { changed = false }; return changed }
    func snapshot() -> DashboardSnapshot { snap }
    func perform(_ command: DriverCommand) -> String? { nil }
}

let driver = FixedDriver(snapA)
let controller = DashboardController(driver: driver)
@MainActor func show(_ s: DashboardSnapshot) { driver.snap = s; driver.changed = true; controller.tick() }

struct Stats {
    var samples: [Double]  // microseconds
    var median: Double { samples.sorted()[samples.count / 2] }
    var p99: Double { samples.sorted()[min(samples.count - 1, samples.count * 99 / 100)] }
}

func micros(_ d: Swift.Duration) -> Double {
    Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12
}

let clock = ContinuousClock()
let theme = Theme(name: .standard, depth: .full256, unicode: true)

// MARK: 1. widgets into the grid

log("rendering \(frames) frames at 200x50 into the cell grid...")
var renderTimes: [Double] = []
for i in 0..<(frames + 50) {
    show(i % 2 == 0 ? snapA : snapB)
    let t = clock.now
    var g = CellGrid(width: 200, height: 50)
    controller.render(into: &g, theme: theme)
    let d = clock.now - t
    if i >= 50 { renderTimes.append(micros(d)) }
}
let render = Stats(samples: renderTimes)

// MARK: curses flush on a pseudo-terminal

guard let pty = PseudoTerminal(rows: 50, cols: 200),
      let backend = CursesBackend.start(terminalType: "xterm-256color", outputFD: pty.slave, inputFD: pty.slave,
                                        .init(themeName: .standard, catchSignals: false)) else {
    log("cannot start curses on a pseudo-terminal")
    exit(1)
}
log("flushing \(frames) changing frames to a pty through ncurses...")
var grids: [CellGrid] = []
for s in [snapA, snapB] {
    show(s)
    var g = CellGrid(width: 200, height: 50)
    controller.render(into: &g, theme: backend.theme)
    grids.append(g)
}
backend.present(grids[0])
_ = pty.drain()
var flushTimes: [Double] = [], frameTimes: [Double] = []
var changedBytes = 0
for i in 0..<frames {
    let which = (i + 1) % 2
    show(which == 0 ? snapA : snapB)
    let t0 = clock.now
    var g = CellGrid(width: 200, height: 50)
    controller.render(into: &g, theme: backend.theme)
    let t1 = clock.now
    backend.present(g)
    let t2 = clock.now
    changedBytes += pty.drain().count
    flushTimes.append(micros(t2 - t1))
    frameTimes.append(micros(t2 - t0))
}
let flush = Stats(samples: flushTimes), frame = Stats(samples: frameTimes)

// MARK: 2. unchanged frames

var unchangedBytes = 0
let unchangedFrames = 200
var same = CellGrid(width: 200, height: 50)
controller.render(into: &same, theme: backend.theme)
backend.present(same)
_ = pty.drain()
for _ in 0..<unchangedFrames {
    var g = CellGrid(width: 200, height: 50)
    controller.render(into: &g, theme: backend.theme)
    backend.present(g)
    unchangedBytes += pty.drain().count
}
backend.stop()

// MARK: 3-4. the real binary on a pty

/// The binary running on a pseudo-terminal of its own; output is drained by `pump`.
final class Running {
    let process = Process()
    let pty: PseudoTerminal
    var output: [UInt8] = []
    var bytes = 0
    init?(_ path: String, _ arguments: [String], rows: Int = 40, cols: Int = 120) {
        guard let p = PseudoTerminal(rows: rows, cols: cols) else { return nil }
        pty = p
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["TERM"] = "xterm-256color"
        env["LANG"] = "C.UTF-8"
        env["LC_ALL"] = "C.UTF-8"
        env.removeValue(forKey: "NO_COLOR")
        process.environment = env
        let slave = FileHandle(fileDescriptor: p.slave, closeOnDealloc: false)
        process.standardInput = slave
        process.standardOutput = slave
        process.standardError = slave
        process.currentDirectoryURL = URL(fileURLWithPath: NSTemporaryDirectory())  // any directory works
    }
    func start() throws { try process.run() }
    /// Reads what the program wrote; keeps the text only while `keep` is set.
    func pump(keep: Bool = false) {
        let d = pty.drain()
        bytes += d.count
        if keep { output += d }
    }
    func waitForScreen(containing s: String, timeout: Double) -> Bool {
        let needle = Array(s.utf8)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            pump(keep: true)
            if output.count >= needle.count, output.firstRange(of: needle) != nil { return true }
            usleep(1000)
        }
        return false
    }
    /// utime + stime in seconds, from /proc/<pid>/stat.
    var cpuSeconds: Double {
        guard let s = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
              let close = s.lastIndex(of: ")") else { return .nan }
        let f = s[s.index(after: close)...].split(separator: " ")
        // Fields after the command: state is field 3, utime 14, stime 15 (1-based in proc(5)).
        guard f.count > 13, let u = Double(f[11]), let st = Double(f[12]) else { return .nan }
        return (u + st) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { pump(); usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// CPU share of one core over `seconds`, and bytes written meanwhile.
@MainActor func idle(_ r: Running, seconds: Double) -> (cpu: Double, bytes: Int) {
    r.pump()
    let b0 = r.bytes
    let c0 = r.cpuSeconds
    let t0 = clock.now
    let end = Date().addingTimeInterval(seconds)
    while Date() < end { r.pump(); usleep(100_000) }
    let c1 = r.cpuSeconds
    let wall = micros(clock.now - t0) / 1e6
    return ((c1 - c0) / wall * 100, r.bytes - b0)
}

var firstFrames: [Double] = []
var idlePaused: (cpu: Double, bytes: Int)?
var idleSlow: (cpu: Double, bytes: Int)?
if let bin {
    log("first frame of `urgentflow` (no arguments), 5 runs: \(bin)")
    for _ in 0..<5 {
        guard let r = Running(bin, []) else { break }
        let t = clock.now
        try r.start()
        if r.waitForScreen(containing: "Sites", timeout: 30) { firstFrames.append(micros(clock.now - t) / 1000) }
        r.stop()
    }
    log("idle CPU, paused, \(Int(idleSeconds)) s...")
    if let r = Running(bin, ["replay", "boxing-day-surge", "--speed", "60"]) {
        try r.start()
        if r.waitForScreen(containing: "Sites", timeout: 30) {
            r.pty.type(" ")   // Space: pause
            _ = r.waitForScreen(containing: "PAUSED", timeout: 10)
            usleep(500_000)
            idlePaused = idle(r, seconds: idleSeconds)
            r.pty.type(" ")   // resume, playing one event minute per second
            usleep(500_000)
            log("idle CPU, playing at x60, \(Int(idleSeconds)) s...")
            idleSlow = idle(r, seconds: idleSeconds)
        }
        r.stop()
    }
} else {
    log("no urgentflow binary found (build it, or pass --binary): CPU and first-frame figures skipped")
}

// MARK: table

func ms(_ us: Double) -> String { String(format: "%.3f ms", us / 1000) }
func row(_ a: String, _ b: String, _ c: String, _ ok: Bool?) -> String {
    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
    return "| \(pad(a, 54)) | \(pad(b, 12)) | \(pad(c, 26)) | \(ok == nil ? "-" : (ok! ? "met" : "NOT met")) |"
}
var out: [String] = []
out.append(row("Figure", "Target", "Measured", nil).replacingOccurrences(of: "| - |", with: "| Verdict |"))
out.append("|--------------------------------------------------------|--------------|----------------------------|---------|")
out.append(row("Frame 200x50: widgets into the cell grid (median/p99)", "", "\(ms(render.median)) / \(ms(render.p99))", nil))
out.append(row("Frame 200x50: ncurses flush to a pty (median/p99)", "", "\(ms(flush.median)) / \(ms(flush.p99))", nil))
out.append(row("Frame 200x50: grid + flush (median/p99)", "< 2 ms", "\(ms(frame.median)) / \(ms(frame.p99))", frame.p99 < 2000))
out.append(row("Bytes per changed frame (replay tick, 200x50)", "", "\(changedBytes / max(1, frames)) B", nil))
out.append(row("Bytes per unchanged frame", "0 B", "\(unchangedBytes / unchangedFrames) B (\(unchangedBytes) in \(unchangedFrames))", unchangedBytes == 0))
if let p = idlePaused {
    out.append(row("Idle CPU, paused, 120x40 (\(Int(idleSeconds)) s)", "< 0.5 %", String(format: "%.2f %% (%d B sent)", p.cpu, p.bytes), p.cpu < 0.5))
}
if let s = idleSlow {
    out.append(row("CPU playing at x60, 120x40 (\(Int(idleSeconds)) s)", "< 0.5 %", String(format: "%.2f %% (%d B/s)", s.cpu, Int(Double(s.bytes) / idleSeconds)), s.cpu < 0.5))
}
if !firstFrames.isEmpty {
    let sorted = firstFrames.sorted()
    out.append(row("First frame, `urgentflow` no arguments (median of \(sorted.count))", "< 300 ms",
                   String(format: "%.0f ms (min %.0f, max %.0f)", sorted[sorted.count / 2], sorted.first!, sorted.last!),
                   sorted[sorted.count / 2] < 300))
}
print(out.joined(separator: "\n"))
if let bin { print("\nbinary: \(bin)") }
print("snapshot: boxing-day-surge at \(snapA.localClock), \(snapA.sites.count) sites, \(snapA.alerts.count) alerts; \(frames) frames")
