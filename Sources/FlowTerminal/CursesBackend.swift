import CNcursesw
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The single owner of every curses call (ncurses is not thread-safe: use it from one thread).
///
/// Starts the screen with `newterm` (nil: the caller falls back to the plain line mode), keeps the
/// terminal's own background, draws a `CellGrid` by writing only the cells that changed since the
/// last frame (so an unchanged frame sends 0 bytes), reads keys with `wget_wch` and a timeout,
/// and restores the terminal in `stop()`, leaving the alternate screen blank.
public final class CursesBackend {
    /// What `start` needs.
    public struct Configuration: Sendable {
        public var themeName: ThemeName
        /// `--no-color` or `NO_COLOR`: no colour at all (attributes and glyphs only).
        public var noColor: Bool
        /// Force ASCII glyphs even under a UTF-8 locale.
        public var asciiOnly: Bool
        /// Record SIGINT/SIGTERM/SIGHUP so the loop can restore the terminal and exit.
        public var catchSignals: Bool
        public init(themeName: ThemeName = .standard, noColor: Bool = false, asciiOnly: Bool = false, catchSignals: Bool = true) {
            self.themeName = themeName
            self.noColor = noColor
            self.asciiOnly = asciiOnly
            self.catchSignals = catchSignals
        }
    }

    public private(set) var theme: Theme
    public private(set) var colorsEnabled: Bool
    private let screen: OpaquePointer
    private let win: UnsafeMutablePointer<WINDOW>
    private var files: [UnsafeMutablePointer<FILE>] = []
    private var previous: CellGrid?
    private var fullRedraw = true
    private var stopped = false
    private let catchSignals: Bool
    private let outputFD: Int32
    /// The terminal type has an alternate screen (`smcup`): the dashboard draws there, and
    /// `stop()` blanks it before leaving it.
    private let alternateScreen: Bool
    /// Cells written to curses by the last `present` (a measure of what changed).
    public private(set) var lastCellsWritten = 0

    // MARK: locale

    /// `setlocale(LC_ALL, "")`; when the codeset is not UTF-8, tries `C.UTF-8`.
    /// Returns true when UTF-8 glyphs can be used.
    @discardableResult
    public static func prepareLocale() -> Bool {
        _ = setlocale(LC_ALL, "")
        if cnc_codeset_is_utf8() != 0 { return true }
        if setlocale(LC_CTYPE, "C.UTF-8") != nil, cnc_codeset_is_utf8() != 0 { return true }
        if setlocale(LC_CTYPE, "C.utf8") != nil, cnc_codeset_is_utf8() != 0 { return true }
        return false
    }

    // MARK: start / stop

    /// Starts on the process's own terminal (stdout/stdin). Returns nil when there is no terminal
    /// ncurses can drive (not a tty, `TERM` unset or `dumb`, unknown terminal type).
    public static func start(_ config: Configuration, environment: [String: String]) -> CursesBackend? {
        guard isatty(1) == 1, isatty(0) == 1 else { return nil }
        let term = environment["TERM"] ?? ""
        guard !term.isEmpty, term != "dumb" else { return nil }
        let utf8 = prepareLocale()
        if environment["ESCDELAY"] == nil { set_escdelay(25) }
        guard let scr = newterm(nil, cnc_stdout(), cnc_stdin()) else { return nil }
        return CursesBackend(screen: scr, files: [], outputFD: 1, config: config, utf8: utf8)
    }

    /// Starts on a given file descriptor pair (a pseudo-terminal in tests and benchmarks) with an
    /// explicit terminal type. The descriptors are duplicated; the caller keeps its own.
    public static func start(terminalType: String, outputFD: Int32, inputFD: Int32, _ config: Configuration) -> CursesBackend? {
        let utf8 = prepareLocale()
        set_escdelay(25)
        guard let out = fdopen(dup(outputFD), "w") else { return nil }
        guard let inp = fdopen(dup(inputFD), "r") else { fclose(out); return nil }
        let scr = terminalType.withCString { newterm($0, out, inp) }
        guard let scr else { fclose(out); fclose(inp); return nil }
        return CursesBackend(screen: scr, files: [out, inp], outputFD: fileno(out), config: config, utf8: utf8)
    }

    private init(screen: OpaquePointer, files: [UnsafeMutablePointer<FILE>], outputFD: Int32, config: Configuration, utf8: Bool) {
        self.screen = screen
        self.outputFD = outputFD
        self.files = files
        _ = set_term(screen)
        self.win = cnc_stdscr()
        self.catchSignals = config.catchSignals
        self.alternateScreen = cnc_has_alternate_screen() != 0
        cbreak()
        noecho()
        nonl()
        _ = intrflush(win, false)
        keypad(win, true)
        _ = curs_set(0)
        var depth = ColorDepth.none
        if !config.noColor, config.themeName != .monochrome, has_colors() {
            start_color()
            use_default_colors()
            depth = ColorDepth(colors: Int(cnc_colors()))
        }
        self.colorsEnabled = depth != .none
        self.theme = Theme(name: config.themeName, depth: depth, unicode: utf8 && !config.asciiOnly)
        if colorsEnabled {
            for (i, role) in StyleRole.allCases.enumerated() {
                let st = theme.style(role)
                init_pair(Int16(i + 1), st.foreground, st.background)
            }
        }
        // Terminals that ignore keypad-transmit mode send cursor-mode arrows.
        for (seq, key) in [("\u{1B}[A", KEY_UP), ("\u{1B}[B", KEY_DOWN), ("\u{1B}[C", KEY_RIGHT), ("\u{1B}[D", KEY_LEFT),
                           ("\u{1B}[H", KEY_HOME), ("\u{1B}[F", KEY_END), ("\u{1B}[Z", KEY_BTAB)] {
            if key_defined(seq) == 0 { _ = define_key(seq, key) }
        }
        SignalTrap.installWindowChange()
        cnc_unblock_terminal_signals()
        if config.catchSignals { SignalTrap.install() }
    }

    /// Applies a pending window change: asks the terminal for its size and resizes curses.
    private func applyWindowChange() -> Bool {
        guard SignalTrap.takeWindowChange() else { return false }
        var rows: Int32 = 0, cols: Int32 = 0
        if cnc_get_winsize(outputFD, &rows, &cols) == 0, rows > 0, cols > 0 {
            _ = resizeterm(rows, cols)
        }
        fullRedraw = true
        return true
    }

    /// Restores the terminal. Safe to call more than once.
    ///
    /// On a terminal with an alternate screen, the dashboard is erased from it first, so that
    /// screen is blank when `endwin` leaves it. A terminal may carry what is left on the
    /// alternate screen over to the screen it restores: tmux 3.3a (Debian bookworm's; tmux
    /// issue 3510 has it since 3.2), leaving it at a size other than the one it was entered at,
    /// resizes its lines back to the old size, wrapping the wider ones into the pane's history,
    /// and then pulls them back out of the history as it grows the restored screen to the new
    /// size. After a resize from 80x24 to 160x45 that put the last frame's bottom rows (the
    /// boxes' side borders) above the shell. Blank lines wrap to nothing, so nothing comes back.
    /// The alternate screen is thrown away on leaving it anyway; a terminal without one keeps
    /// the last frame, as before.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        _ = set_term(screen)
        if alternateScreen {
            _ = werase(win)
            _ = clearok(win, true)   // sent as clear_screen, whatever curses thinks is shown
            _ = wrefresh(win)
        }
        _ = curs_set(1)
        endwin()
        delscreen(screen)
        for f in files { fclose(f) }
        files = []
        SignalTrap.restoreWindowChange()
        if catchSignals { SignalTrap.restore() }
    }

    deinit { stop() }

    /// The signal received since the last call (SIGINT, SIGTERM, SIGHUP), or nil.
    public func takePendingSignal() -> Int32? {
        SignalTrap.take()
    }

    // MARK: size and drawing

    /// The current size, read from curses every time (never cached).
    public var size: (width: Int, height: Int) {
        var y: Int32 = 0, x: Int32 = 0
        cnc_getmaxyx(win, &y, &x)
        return (Int(x), Int(y))
    }

    private func attributes(for cell: Cell) -> (attr_t, Int16) {
        let st = theme.style(cell.role)
        var a = cnc_a_normal()
        let all = st.attributes.union(cell.attributes)
        if all.contains(.bold) { a |= cnc_a_bold() }
        if all.contains(.reverse) { a |= cnc_a_reverse() }
        if all.contains(.underline) { a |= cnc_a_underline() }
        if st.dim { a |= cnc_a_dim() }
        guard colorsEnabled, let i = StyleRole.allCases.firstIndex(of: cell.role) else { return (a, 0) }
        return (a, Int16(i + 1))
    }

    /// Draws `grid`, writing only the cells that differ from the previous frame (all of them after
    /// a resize), then refreshes. ncurses then sends only the bytes for what actually changed.
    public func present(_ grid: CellGrid) {
        let (w, h) = size
        let full = fullRedraw || previous == nil || previous!.width != grid.width || previous!.height != grid.height
        if full { clearok(win, true) }
        var written = 0
        var cc = cchar_t()
        for y in 0..<min(h, grid.height) {
            for x in 0..<min(w, grid.width) {
                let cell = grid[x, y]
                if cell.isContinuation { continue }
                if !full, let p = previous, p[x, y] == cell, !(x + 1 < grid.width && p[x + 1, y] != grid[x + 1, y] && grid[x + 1, y].isContinuation) {
                    continue
                }
                let (a, pair) = attributes(for: cell)
                var wchars: [wchar_t] = cell.text.unicodeScalars.prefix(5).map { wchar_t(bitPattern: $0.value) }
                if wchars.isEmpty || (x + 1 >= w && TerminalText.width(cell.text) > 1) { wchars = [wchar_t(32)] }
                wchars.append(0)
                _ = setcchar(&cc, wchars, a, pair, nil)
                _ = mvwadd_wch(win, Int32(y), Int32(x), &cc)
                written += 1
            }
        }
        lastCellsWritten = written
        previous = grid
        fullRedraw = false
        wnoutrefresh(win)
        doupdate()
    }

    /// Forces the next `present` to repaint everything (e.g. after a resize or Ctrl-L).
    public func invalidate() { fullRedraw = true }

    // MARK: input

    /// Waits up to `timeoutMilliseconds` for a key (so an idle dashboard uses ~0 CPU).
    /// Returns nil on timeout or on an unknown key.
    public func readKey(timeoutMilliseconds: Int32) -> Key? {
        if applyWindowChange() { return .resize }
        wtimeout(win, timeoutMilliseconds)
        var wch: wint_t = 0
        let r = wget_wch(win, &wch)
        if r == ERR, applyWindowChange() { return .resize }
        if r == OK {
            switch wch {
            case 10, 13: return .enter
            case 9: return .tab
            case 27: return .escape
            case 127, 8: return .backspace
            case 12: invalidate(); return .resize   // Ctrl-L: repaint
            default:
                guard let s = Unicode.Scalar(UInt32(wch)), !TerminalText.isUnsafe(s.value) else { return nil }
                return .char(Character(s))
            }
        }
        if r == KEY_CODE_YES {
            switch Int32(wch) {
            case KEY_UP: return .up
            case KEY_DOWN: return .down
            case KEY_LEFT: return .left
            case KEY_RIGHT: return .right
            case KEY_PPAGE: return .pageUp
            case KEY_NPAGE: return .pageDown
            case KEY_HOME: return .home
            case KEY_END: return .end
            case KEY_ENTER: return .enter
            case KEY_BTAB: return .backTab
            case KEY_BACKSPACE: return .backspace
            case KEY_RESIZE:
                fullRedraw = true
                return .resize
            default:
                for n in 1...12 where Int32(wch) == cnc_key_f(Int32(n)) { return .function(n) }
                return nil
            }
        }
        return nil
    }

    // MARK: reading the screen back (tests)

    /// A cell as curses holds it in its window.
    public struct ScreenCell: Equatable, Sendable {
        public var text: String
        public var role: StyleRole?
        public var bold: Bool
        public var reverse: Bool
    }

    /// Reads one cell back with `mvwin_wch`/`getcchar`.
    public func screenCell(x: Int, y: Int) -> ScreenCell {
        var cc = cchar_t()
        _ = mvwin_wch(win, Int32(y), Int32(x), &cc)
        var buf = [wchar_t](repeating: 0, count: 16)
        var a: attr_t = 0
        var pair: Int16 = 0
        _ = getcchar(&cc, &buf, &a, &pair, nil)
        var s = ""
        for v in buf { if v == 0 { break }; if let u = Unicode.Scalar(UInt32(bitPattern: v)) { s.unicodeScalars.append(u) } }
        let roles = StyleRole.allCases
        let role: StyleRole? = pair > 0 && Int(pair) <= roles.count ? roles[Int(pair) - 1] : nil
        return ScreenCell(text: s, role: role, bold: a & cnc_a_bold() != 0, reverse: a & cnc_a_reverse() != 0)
    }

    /// Row `y` as curses holds it.
    public func screenRow(_ y: Int) -> String {
        let (w, _) = size
        var s = ""
        var x = 0
        while x < w {
            let c = screenCell(x: x, y: y)
            s += c.text
            x += max(1, TerminalText.width(c.text))
        }
        return s
    }
}

/// A pseudo-terminal pair for headless tests and benchmarks of the curses backend.
public final class PseudoTerminal {
    public let master: Int32
    public let slave: Int32

    public init?(rows: Int, cols: Int) {
        var m: Int32 = -1, s: Int32 = -1
        guard cnc_open_pty(&m, &s, Int32(rows), Int32(cols)) == 0 else { return nil }
        master = m
        slave = s
    }

    deinit {
        close(master)
        close(slave)
    }

    /// Types into the terminal (what the user's keyboard would send).
    public func type(_ s: String) {
        let bytes = Array(s.utf8)
        bytes.withUnsafeBytes { p in _ = Glibc.write(master, p.baseAddress, p.count) }
    }

    /// Everything the program wrote to the terminal and not yet read.
    public func drain() -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { cnc_read_available(master, $0.baseAddress, UInt($0.count)) }
            if n <= 0 { break }
            out += buf[0..<Int(n)]
        }
        return out
    }

    /// Changes the window size (the caller then delivers SIGWINCH, e.g. with `raise`).
    public func resize(rows: Int, cols: Int) {
        _ = cnc_set_winsize(slave, Int32(rows), Int32(cols))
    }

    /// Sends SIGWINCH to the calling thread, as a terminal emulator does after a resize.
    public static func signalWindowChange() { cnc_raise(SIGWINCH) }
}
