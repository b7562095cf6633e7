import FlowCore
import CNcursesw
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How the dashboard runs (command-line options of the executable).
public struct DashboardOptions: Sendable {
    public var theme: ThemeName
    /// `--no-color`; `NO_COLOR` in the environment has the same effect.
    public var noColor: Bool
    /// `--plain`: line mode even on a capable terminal.
    public var plain: Bool
    /// ASCII glyphs only.
    public var asciiOnly: Bool
    /// How often the driver is asked to advance and the screen refreshed, in milliseconds
    /// (also the key wait; 100-250 keeps an idle dashboard near 0 CPU). Clamped to 20...5000.
    public var refreshMilliseconds: Int
    /// Plain mode: stop once a replay has finished (default: true in plain mode, false on screen).
    public var exitWhenReplayFinished: Bool?
    /// Environment to honour (`TERM`, `NO_COLOR`, `ESCDELAY`). Defaults to the process's.
    public var environment: [String: String]

    public init(theme: ThemeName = .standard, noColor: Bool = false, plain: Bool = false, asciiOnly: Bool = false,
                refreshMilliseconds: Int = 200, exitWhenReplayFinished: Bool? = nil,
                environment: [String: String] = DashboardOptions.processEnvironment()) {
        self.theme = theme
        self.noColor = noColor
        self.plain = plain
        self.asciiOnly = asciiOnly
        self.refreshMilliseconds = refreshMilliseconds
        self.exitWhenReplayFinished = exitWhenReplayFinished
        self.environment = environment
    }

    /// The variables the dashboard reads, from the process environment.
    public static func processEnvironment() -> [String: String] {
        var env: [String: String] = [:]
        for k in ["TERM", "NO_COLOR", "ESCDELAY", "LANG", "LC_ALL", "LC_CTYPE"] {
            if let v = getenv(k) { env[k] = String(cString: v) }
        }
        return env
    }

    var effectiveNoColor: Bool { noColor || Theme.noColorRequested(environment: environment) }
    var refresh: Int32 { Int32(min(5000, max(20, refreshMilliseconds))) }
}

/// Why the dashboard stopped.
public enum DashboardExit: Equatable, Sendable {
    /// The user pressed `q`.
    case quit
    /// Plain mode: the replay finished.
    case finished
    /// SIGINT, SIGTERM or SIGHUP: the terminal was restored; exit with 128 + signal.
    case signal(Int32)
}

/// Runs the dashboard until the user quits or a signal arrives; restores the terminal on every
/// exit path (quit, SIGINT/SIGTERM/SIGHUP, thrown error). Falls back to the plain line mode when
/// `options.plain` is set or ncurses cannot drive the terminal.
///
/// `onScreen(true)` is called once the screen owns the terminal and `onScreen(false)` once it
/// has given it back, or when the screen could not take it (line mode: `onScreen(false)` only):
/// the live service diverts its warnings meanwhile.
@discardableResult
public func runDashboard(driver: DashboardDriver, options: DashboardOptions,
                         onScreen: (Bool) -> Void = { _ in }) throws -> DashboardExit {
    if !options.plain,
       let backend = CursesBackend.start(
        .init(themeName: options.theme, noColor: options.effectiveNoColor, asciiOnly: options.asciiOnly),
        environment: options.environment) {
        onScreen(true)
        // The screen first gives the terminal back, then the caller is told: what it writes then
        // (the live service says its warnings again) is on the terminal, not on the alternate
        // screen that closing the screen throws away.
        defer { backend.stop(); onScreen(false) }
        return try runScreen(driver: driver, backend: backend, options: options)
    }
    onScreen(false)
    return try runPlain(driver: driver, options: options)
}

/// The screen loop, separate from `runDashboard` so a test can run it on a pseudo-terminal.
public func runScreen(driver: DashboardDriver, backend: CursesBackend, options: DashboardOptions) throws -> DashboardExit {
    let controller = DashboardController(driver: driver)
    var dirty = true
    while true {
        if let sig = backend.takePendingSignal() { return .signal(sig) }
        if controller.tick() { dirty = true }
        if dirty {
            let (w, h) = backend.size
            var grid = CellGrid(width: w, height: h)
            controller.render(into: &grid, theme: backend.theme)
            backend.present(grid)
            dirty = false
        }
        guard let key = backend.readKey(timeoutMilliseconds: options.refresh) else { continue }
        switch controller.handle(key) {
        case .quit: return .quit
        case .redraw: dirty = true
        case .ignored: break
        }
    }
}

/// The plain line mode. Commands may be typed on stdin, one per line: `q` quit, `p` or Space
/// pause/resume, `+`/`-` speed, `.` step, `n` next alert transition.
public func runPlain(driver: DashboardDriver, options: DashboardOptions) throws -> DashboardExit {
    let renderer = PlainRenderer()
    SignalTrap.install()
    defer { SignalTrap.restore() }
    var paused = driver.snapshot().replay?.paused ?? false
    var stdinOpen = true
    var pendingInput: [UInt8] = []
    let exitWhenFinished = options.exitWhenReplayFinished ?? true
    var first = true
    func emit(_ snap: DashboardSnapshot) {
        for line in renderer.changedLines(snap, paused: paused) { fputs(line + "\n", cnc_stdout()) }
        fflush(cnc_stdout())
    }
    while true {
        if let s = SignalTrap.take() { return .signal(s) }
        let changed = driver.advance()
        if first || (changed && !paused) {
            first = false
            let snap = driver.snapshot()
            emit(snap)
            if exitWhenFinished, snap.replay?.finished == true { return .finished }
        }
        if stdinOpen {
            if cnc_poll_readable(0, options.refresh) == 1 {
                var buf = [UInt8](repeating: 0, count: 256)
                let n = buf.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                if n <= 0 { stdinOpen = false; continue }
                pendingInput += buf[0..<n]
                while let nl = pendingInput.firstIndex(of: 10) {
                    let line = String(decoding: pendingInput[..<nl], as: UTF8.self).trimmingCharacters()
                    pendingInput.removeSubrange(...nl)
                    var cmd: DriverCommand?
                    switch line {
                    case "q", "quit": return .quit
                    case "p", "", "pause": paused.toggle(); cmd = .setPaused(paused)
                    default:
                        // The dashboard's replay keys, one a line (+ - . n [ ] {).
                        if let c = line.first, line.count == 1, let replay = KeyMap.action(for: .char(c), in: [.replay])?.replayCommand {
                            cmd = replay
                        } else {
                            fputs("commands: q quit, p pause/resume, + faster, - slower, . step, n next alert, [ back an hour, ] ahead an hour, { to the start\n", cnc_stdout())
                        }
                    }
                    if let cmd {
                        if let msg = driver.perform(cmd) { fputs(TerminalText.sanitize(msg) + "\n", cnc_stdout()) }
                        emit(driver.snapshot())
                    }
                }
            }
        } else {
            usleep(UInt32(options.refresh) * 1000)
        }
    }
}
