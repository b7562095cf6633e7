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
