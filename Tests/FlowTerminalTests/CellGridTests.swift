import Testing
import FlowCore
@testable import FlowTerminal

@Suite struct CellGridTests {
    @Test func putClipsToGridAndMaxWidth() {
        var g = CellGrid(width: 10, height: 2)
        let n = g.put("Lister Hospital", x: 2, y: 0)
        #expect(n == 8)
        #expect(g.row(0) == "  Lister H")
        g.put("abcdef", x: 0, y: 1, maxWidth: 3)
        #expect(g.row(1).trimmingTrailingSpaces() == "abc")
    }

    @Test func wideCharactersTakeTwoColumnsAndAreNotSplit() {
        var g = CellGrid(width: 5, height: 1)
        let n = g.put("病院X", x: 0, y: 0)
        #expect(n == 5)
        #expect(g[1, 0].isContinuation)
        #expect(g.row(0) == "病院X")
        var g2 = CellGrid(width: 3, height: 1)
        #expect(g2.put("病院", x: 0, y: 0) == 2) // second wide char would straddle the edge
        #expect(g2[2, 0].text == " ")
    }

    @Test func overwritingHalfAWideCharacterBlanksTheOtherHalf() {
        var g = CellGrid(width: 4, height: 1)
        g.put("病", x: 0, y: 0)
        g.put("a", x: 1, y: 0)
        #expect(g[0, 0].text == " ")
        #expect(!g[1, 0].isContinuation)
        #expect(g.row(0) == " a  ")
    }

    @Test func sanitisingStripsEscapeAndControlCharacters() {
        let evil = "Lister\u{1B}[2J\u{1B}]0;pwned\u{07}\u{9B}31m\u{7F}\tok\u{202E}"
        let s = TerminalText.sanitize(evil)
        #expect(!s.unicodeScalars.contains { $0.value < 0x20 || ($0.value >= 0x7F && $0.value <= 0x9F) })
        #expect(!s.contains("\u{1B}"))
        #expect(!s.unicodeScalars.contains { $0.value == 0x202E })
        var g = CellGrid(width: 40, height: 1)
        g.put(evil, x: 0, y: 0)
        for x in 0..<40 {
            #expect(!g[x, 0].text.unicodeScalars.contains { TerminalText.isUnsafe($0.value) })
        }
        #expect(g.row(0).hasPrefix("Lister?[2J?]0;pwned??31m? ok?"))
    }

    @Test func displayWidth() {
        #expect(TerminalText.width("abc") == 3)
        #expect(TerminalText.width("病院") == 4)
        #expect(TerminalText.width("e\u{301}") == 1)
        #expect(TerminalText.width("✔ OK") == 4)
        #expect(TerminalText.clip("Princess Alexandra", to: 8, ellipsis: "…") == "Princes…")
    }

    @Test func formattingNeverTurnsMissingIntoZero() {
        #expect(Format.value(nil, unit: "%") == "--")
        #expect(Format.value(0, unit: "%") == "0%")
        #expect(Format.value(95.44, unit: "%") == "95.4%")
        #expect(Format.value(12, unit: "") == "12")
        #expect(Format.value(45, unit: "min") == "45m")
        #expect(Format.age(.minutes(125)) == "2h05")
        #expect(Format.age(nil) == "--")
        let sp = Format.sparkline([1, nil, 8], width: 3, glyphs: .unicodeSet)
        #expect(sp == ["▁", "·", "█"])
    }
}

/// Printable ASCII, nearly all of a frame's text, takes a path of its own through the grid and
/// the width and sanitising functions (a byte a column): the cells are those the general path
/// makes. The general path is forced by a non-ASCII character past `maxWidth`.
@Suite struct PrintableASCIITests {
    static func grid(_ text: String, x: Int, maxWidth: Int? = nil, over first: String? = nil) -> (CellGrid, Int) {
        var g = CellGrid(width: 8, height: 1)
        if let first { g.put(first, x: 0, y: 0, role: .warning) }
        let n = g.put(text, x: x, y: 0, role: .critical, attributes: [.bold], maxWidth: maxWidth)
        return (g, n)
    }

    @Test(arguments: [(0, nil), (2, nil), (5, nil), (-2, nil), (1, 3), (0, 0)] as [(Int, Int?)])
    func theSameCellsAsTheGeneralPath(x: Int, maxWidth: Int?) {
        for under in [nil, "病院病院", "ab病cd"] as [String?] {
            let fast = Self.grid("Amb q 5", x: x, maxWidth: maxWidth, over: under)
            let general = Self.grid("Amb q 5é", x: x, maxWidth: maxWidth.map { min($0, 7) } ?? 7, over: under)
            #expect(fast.0 == general.0, "x \(x), max \(String(describing: maxWidth)), over \(String(describing: under))")
            #expect(fast.1 == general.1)
        }
        #expect(TerminalText.isPrintableASCII("Amb q 5 ~") && !TerminalText.isPrintableASCII("Amb\tq") && !TerminalText.isPrintableASCII("\u{7F}")
                && !TerminalText.isPrintableASCII("é"))
    }

    /// Overwriting half of a wide character with ASCII blanks its other half, as before.
    @Test func asciiOverHalfAWideCharacterBlanksTheOtherHalf() {
        var g = CellGrid(width: 4, height: 1)
        g.put("病院", x: 0, y: 0)
        g.put("a", x: 1, y: 0)
        #expect(g.row(0) == " a院")
        #expect(!g[2, 0].isContinuation && g[3, 0].isContinuation)
    }

    @Test func widthsAndSanitising() {
        #expect(TerminalText.width("G&A occ 92.4%") == 13)
        #expect(TerminalText.width("病院 x") == 6)
        #expect(TerminalText.sanitize("ok text") == "ok text")
        #expect(TerminalText.sanitize("a\tb\u{1B}[2J") == "a b?[2J")
    }
}

@Suite struct ShortenedLevelsTests {
    @Test func everyLevelWordIsShortenedInOnePass() {
        #expect(Format.shortenedLevels("x (warning above 92%) y (critical below 50%)", unicode: true)
                == "x (warn ≥92%) y (crit ≤50%)")
        #expect(Format.shortenedLevels("Hôpital é (critical above 95%)", unicode: false) == "Hôpital é (crit >=95%)")
        #expect(Format.shortenedLevels("warning above warning below ", unicode: true) == "warn ≥warn ≤")
        #expect(Format.shortenedLevels("x (warning at or above 92%) y (critical at or below 50%)", unicode: true)
                == "x (warn ≥92%) y (crit ≤50%)")
        #expect(Format.shortenedLevels("warning at or above warning at or below ", unicode: false) == "warn >=warn <=")
        // Not the words with their space: left as they are.
        for s in ["warning abovex", "critical", "", "cwcw", "warning abov", "Watford G&A occ 92%"] {
            #expect(Format.shortenedLevels(s, unicode: true) == s)
        }
    }
}

/// The width of the dashboard's own symbols, given without a look-up of their Unicode
/// properties, is the width the look-up gives, for every scalar of the ranges taken so.
@Suite struct SymbolWidthTests {
    static func looked(_ c: Character) -> Int {
        let first = c.unicodeScalars.first!
        let gc = first.properties.generalCategory
        if gc == .nonspacingMark || gc == .enclosingMark { return 0 }
        if TerminalText.isWide(first.value) || first.properties.isEmojiPresentation { return 2 }
        if c.unicodeScalars.contains(where: { $0.value == 0xFE0F }) && first.properties.isEmoji { return 2 }
        return 1
    }

    @Test func theShortcutAgreesWithTheProperties() {
        for range in [0x2010..<0x2028, 0x2190..<0x2300, 0x2500..<0x2600, 0x2700..<0x2720] {
            for v in range {
                guard let u = Unicode.Scalar(v), !TerminalText.isUnsafe(u.value) else { continue }
                let c = Character(u)
                #expect(TerminalText.width(of: c) == Self.looked(c), "U+\(String(v, radix: 16))")
                let emoji = Character(String(u) + "\u{FE0F}")
                #expect(TerminalText.width(of: emoji) == Self.looked(emoji), "U+\(String(v, radix: 16)) FE0F")
            }
        }
        #expect(TerminalText.width("▲ WARN ✔ ─│ ▁▅█ ≥") == 17)
    }
}
