import Testing
import FlowCore
@testable import FlowTerminal

/// The ncurses backend itself, headless: a pseudo-terminal, `newterm` on its slave side, keys
/// typed into the master side, cells read back with `mvwin_wch`/`getcchar`.
/// Serialized: curses has one current screen per process.
@Suite(.serialized) struct CursesBackendTests {
    static let config = CursesBackend.Configuration(themeName: .standard, noColor: false, catchSignals: false)

    func start(_ pty: PseudoTerminal, _ config: CursesBackend.Configuration = config) throws -> CursesBackend {
        try #require(CursesBackend.start(terminalType: "xterm-256color", outputFD: pty.slave, inputFD: pty.slave, config))
    }

    /// Reads keys until one arrives (bounded attempts, no sleeping).
    func nextKey(_ b: CursesBackend, attempts: Int = 20) -> Key? {
        for _ in 0..<attempts { if let k = b.readKey(timeoutMilliseconds: 100) { return k } }
        return nil
    }

    @Test func drawsAFrameAndReadsCellsBack() throws {
        let pty = try #require(PseudoTerminal(rows: 24, cols: 80))
        let b = try start(pty)
        defer { b.stop() }
        #expect(b.size.width == 80 && b.size.height == 24)
        let c = DashboardController(driver: FakeDriver())
        var g = CellGrid(width: 80, height: 24)
        c.render(into: &g, theme: b.theme)
        b.present(g)
        _ = pty.drain()
        #expect(b.screenRow(0).contains("Hertfordshire and West"))
        // Box corners are real U+250x cells, not ACS letters.
        #expect(b.screenCell(x: 0, y: 2).text == "┌")
        // A critical status cell reads back with the critical colour pair and reverse video.
        let (x, y) = try #require(g.find("✖ CRIT"))
        let cell = b.screenCell(x: x, y: y)
        #expect(cell.text == "✖")
        #expect(cell.role == .critical)
        #expect(cell.reverse)
        #expect(b.screenRow(y).contains("Lister"))
    }

    @Test func unchangedFrameSendsNoBytesAndWritesNoCells() throws {
        let pty = try #require(PseudoTerminal(rows: 24, cols: 80))
        let b = try start(pty)
        defer { b.stop() }
        let c = DashboardController(driver: FakeDriver())
        var g = CellGrid(width: 80, height: 24)
        c.render(into: &g, theme: b.theme)
        b.present(g)
        let first = pty.drain()
        #expect(first.count > 500)
        b.present(g)
        #expect(b.lastCellsWritten == 0)
        #expect(pty.drain().isEmpty)
        // One changed cell: one cell written and a handful of bytes.
        g.put("Z", x: 40, y: 23)
        b.present(g)
        #expect(b.lastCellsWritten == 1)
        let small = pty.drain()
        #expect(!small.isEmpty && small.count < 40)
        #expect(b.screenCell(x: 40, y: 23).text == "Z")
    }

    @Test func keysTypedIntoTheTerminalAreDecoded() throws {
        let pty = try #require(PseudoTerminal(rows: 24, cols: 80))
        let b = try start(pty)
        defer { b.stop() }
        pty.type("j")
        #expect(nextKey(b) == .char("j"))
        pty.type("\u{1B}OB")   // xterm keypad-mode down arrow
        #expect(nextKey(b) == .down)
        pty.type("\u{1B}[A")   // cursor-mode up arrow
        #expect(nextKey(b) == .up)
        pty.type("\r")
        #expect(nextKey(b) == .enter)
        pty.type("\t")
        #expect(nextKey(b) == .tab)
        pty.type(" ")
        #expect(nextKey(b) == .char(" "))
        pty.type("é")
        #expect(nextKey(b) == .char("é"))
        pty.type("\u{1B}")     // a lone Esc arrives after ESCDELAY
        #expect(nextKey(b) == .escape)
        #expect(b.readKey(timeoutMilliseconds: 0) == nil)
    }

    @Test func resizeIsReportedAndTheNextFrameUsesTheNewSize() throws {
        let pty = try #require(PseudoTerminal(rows: 24, cols: 80))
        let b = try start(pty)
        defer { b.stop() }
        let c = DashboardController(driver: FakeDriver())
        var g = CellGrid(width: 80, height: 24)
        c.render(into: &g, theme: b.theme)
        b.present(g)
        _ = pty.drain()
        pty.resize(rows: 40, cols: 120)
        PseudoTerminal.signalWindowChange()
        var got: Key?
        for _ in 0..<20 { got = b.readKey(timeoutMilliseconds: 50); if got == .resize { break } }
        #expect(got == .resize)
        #expect(b.size.width == 120 && b.size.height == 40)
        g = CellGrid(width: b.size.width, height: b.size.height)
        c.render(into: &g, theme: b.theme)
        b.present(g)
        _ = pty.drain()
        #expect(b.lastCellsWritten > 1000) // a full repaint after a resize
        #expect(b.screenRow(0).contains("2026-01-05 08:15 GMT"))
        #expect(b.screenRow(0).count == 120)
    }

    @Test func theScreenLoopRunsKeysInFramesOutAndQuits() throws {
        let pty = try #require(PseudoTerminal(rows: 24, cols: 80))
        let b = try start(pty)
        defer { b.stop() }
        let d = FakeDriver()
        // Pause, move down, open detail, go back, quit: typed before the loop starts.
        pty.type(" j\r\u{1B}q")
        let exit = try runScreen(driver: d, backend: b, options: DashboardOptions(refreshMilliseconds: 50, environment: [:]))
        #expect(exit == .quit)
        #expect(d.commands == [.setPaused(true)])
        #expect(b.screenRow(0).contains("PAUSED"))
        #expect(d.advanceCount >= 1)
    }

    @Test func noColorKeepsAttributesAndGlyphs() throws {
        let pty = try #require(PseudoTerminal(rows: 24, cols: 80))
        let b = try start(pty, .init(themeName: .standard, noColor: true, catchSignals: false))
        defer { b.stop() }
        #expect(!b.colorsEnabled)
        let c = DashboardController(driver: FakeDriver())
        var g = CellGrid(width: 80, height: 24)
        c.render(into: &g, theme: b.theme)
        b.present(g)
        _ = pty.drain()
        let (x, y) = try #require(g.find("✖ CRIT"))
        let cell = b.screenCell(x: x, y: y)
        #expect(cell.role == nil)
        #expect(cell.reverse && cell.bold)
        #expect(cell.text == "✖")
    }

    @Test func stopRestoresTheTerminal() throws {
        let pty = try #require(PseudoTerminal(rows: 24, cols: 80))
        let b = try start(pty)
        var g = CellGrid(width: 80, height: 24)
        g.put("hello", x: 0, y: 0)
        b.present(g)
        _ = pty.drain()
        b.stop()
        let tail = String(decoding: pty.drain(), as: UTF8.self)
        // xterm-256color: rmcup (leave alternate screen) and cnorm (cursor visible).
        #expect(tail.contains("\u{1B}[?1049l"))
        #expect(tail.contains("\u{1B}[?25h") || tail.contains("\u{1B}[?12l\u{1B}[?25h"))
        b.stop() // idempotent
    }

    /// After a resize, the last frame is erased from the alternate screen before it is left:
    /// tmux 3.3a carries what is on it over to the restored screen when the size changed (the
    /// boxes' borders stayed above the shell after `q`, user test of 2026-11-24).
    @Test func stopAfterAResizeLeavesTheAlternateScreenBlank() throws {
        let pty = try #require(PseudoTerminal(rows: 24, cols: 80))
        let b = try start(pty)
        let c = DashboardController(driver: FakeDriver())
        var g = CellGrid(width: 80, height: 24)
        c.render(into: &g, theme: b.theme)
        b.present(g)
        pty.resize(rows: 45, cols: 160)
        PseudoTerminal.signalWindowChange()
        var got: Key?
        for _ in 0..<20 { got = b.readKey(timeoutMilliseconds: 50); if got == .resize { break } }
        #expect(got == .resize)
        g = CellGrid(width: b.size.width, height: b.size.height)
        c.render(into: &g, theme: b.theme)
        b.present(g)
        _ = pty.drain()
        b.stop()
        let tail = pty.drain()
        // xterm-256color: clear is ESC [ H ESC [ 2 J, rmcup ESC [ ? 1049 l.
        let leave = try #require(Self.lastRange(of: Array("\u{1B}[?1049l".utf8), in: tail[...]))
        let beforeLeaving = tail[..<leave.lowerBound]
        let clear = try #require(Self.lastRange(of: Array("\u{1B}[H\u{1B}[2J".utf8), in: beforeLeaving),
                                 "the alternate screen is cleared before it is left")
        // Nothing is drawn on it between the clear and leaving it.
        #expect(Self.printed(beforeLeaving[clear.upperBound...]) == "")
    }

    /// A terminal type without an alternate screen (vt100) keeps the last frame on the screen
    /// the user goes back to: it is not erased.
    @Test func stopWithoutAnAlternateScreenKeepsTheLastFrame() throws {
        let pty = try #require(PseudoTerminal(rows: 24, cols: 80))
        let b = try #require(CursesBackend.start(terminalType: "vt100", outputFD: pty.slave, inputFD: pty.slave, Self.config))
        var g = CellGrid(width: 80, height: 24)
        g.put("hello", x: 0, y: 0)
        b.present(g)
        _ = pty.drain()
        b.stop()
        let tail = pty.drain()
        #expect(Self.lastRange(of: Array("\u{1B}[J".utf8), in: tail[...]) == nil)
        #expect(Self.lastRange(of: Array("\u{1B}[2J".utf8), in: tail[...]) == nil)
    }

    /// The last place `needle` occurs in `bytes`.
    static func lastRange(of needle: [UInt8], in bytes: ArraySlice<UInt8>) -> Range<Int>? {
        guard !needle.isEmpty, bytes.count >= needle.count else { return nil }
        var i = bytes.endIndex - needle.count
        while i >= bytes.startIndex {
            if bytes[i..<(i + needle.count)].elementsEqual(needle) { return i..<(i + needle.count) }
            i -= 1
        }
        return nil
    }

    /// The characters `bytes` print on a terminal: escape and control sequences left out.
    static func printed(_ bytes: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let c = bytes[i]
            if c == 0x1B, i + 1 < bytes.endIndex {
                let next = bytes[i + 1]
                if next == UInt8(ascii: "[") {   // CSI: parameters up to a final byte 0x40...0x7E
                    var j = i + 2
                    while j < bytes.endIndex, !(0x40...0x7E).contains(bytes[j]) { j += 1 }
                    i = j + 1
                } else if next == UInt8(ascii: "(") || next == UInt8(ascii: ")") {
                    i += 3                       // character set designation
                } else {
                    i += 2                       // ESC and one character (ESC =, ESC >, ...)
                }
                continue
            }
            if c >= 0x20, c != 0x7F { out.append(c) }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    @Test func signalIsReportedToTheLoopWhichReturns() throws {
        let pty = try #require(PseudoTerminal(rows: 24, cols: 80))
        let b = try start(pty)
        defer { b.stop() }
        SignalTrap.simulate(SIGTERM_VALUE)
        let exit = try runScreen(driver: FakeDriver(), backend: b, options: DashboardOptions(refreshMilliseconds: 20, environment: [:]))
        #expect(exit == .signal(SIGTERM_VALUE))
    }
}

let SIGTERM_VALUE: Int32 = 15
