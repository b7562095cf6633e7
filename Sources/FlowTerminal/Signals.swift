import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGINT, SIGTERM and SIGHUP are only recorded by the handler (an atomic store, which is
/// async-signal-safe); the UI loop sees the record within one input timeout, restores the
/// terminal and returns `DashboardExit.signal`.
enum SignalTrap {
    private static let pending = Atomic<Int32>(0)
    private nonisolated(unsafe) static var previous: [Int32: sighandler_t?] = [:]
    static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    static func install() {
        _ = pending.load(ordering: .relaxed) // initialise before any handler can run
        for s in signals {
            let old = signal(s) { sig in SignalTrap.pending.store(sig, ordering: .relaxed) }
            previous[s] = old
        }
    }

    static func restore() {
        for (s, old) in previous { signal(s, old ?? SIG_DFL) }
        previous = [:]
    }

    /// The last signal received (nil: none), cleared.
    static func take() -> Int32? {
        let s = pending.exchange(0, ordering: .relaxed)
        return s == 0 ? nil : s
    }

    private static let windowChanged = Atomic<Bool>(false)
    private nonisolated(unsafe) static var previousWinch: sighandler_t?? = nil

    /// SIGWINCH is recorded here too, and the backend resizes curses itself from the terminal's
    /// size, so a resize works whether or not ncurses installed its own handler.
    static func installWindowChange() {
        _ = windowChanged.load(ordering: .relaxed)
        let old = signal(SIGWINCH) { _ in SignalTrap.windowChanged.store(true, ordering: .relaxed) }
        if previousWinch == nil { previousWinch = .some(old) }
    }

    static func restoreWindowChange() {
        if let old = previousWinch { signal(SIGWINCH, old ?? SIG_DFL) }
        previousWinch = nil
    }

    static func takeWindowChange() -> Bool { windowChanged.exchange(false, ordering: .relaxed) }

    /// Test hook: what a signal would record.
    static func simulate(_ sig: Int32) { pending.store(sig, ordering: .relaxed) }
}
