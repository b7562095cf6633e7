/// Text safety and display width.
///
/// Every string that reaches a `CellGrid` goes through `sanitize` (the grid calls it itself), so
/// text from feeds or configuration (site names, reasons, notes, summaries) can never carry an
/// escape sequence or a control character to the terminal.
public enum TerminalText {
    /// What a neutralised control character becomes.
    public static let replacement: Character = "?"

    /// True for C0 controls, DEL, C1 controls (ESC and CSI included), and the bidirectional
    /// override/isolate controls that can make text display in a misleading order.
    @inlinable
    public static func isUnsafe(_ v: UInt32) -> Bool {
        if v < 0x20 || (v >= 0x7F && v <= 0x9F) { return true }
        if (v >= 0x202A && v <= 0x202E) || (v >= 0x2066 && v <= 0x2069) { return true }
        if v == 0x2028 || v == 0x2029 { return true }
        return false
    }

    /// Only printable ASCII (0x20 to 0x7E): each byte one grapheme of one column, nothing to
    /// sanitise. Nearly all of a frame's text is, and looking up its Unicode properties
    /// Character by Character was much of a 200x50 frame's time (README, "Measured").
    @inline(__always)
    public static func isPrintableASCII(_ s: String) -> Bool {
        for b in s.utf8 where b &- 0x20 >= 0x5F { return false }
        return true
    }

    /// Replaces control characters: tab, newline and carriage return become a space, every other
    /// control character becomes `?`. Printable text is left untouched.
    public static func sanitize(_ s: String) -> String {
        if isPrintableASCII(s) { return s }
        var clean = true
        for u in s.unicodeScalars where isUnsafe(u.value) { clean = false; break }
        if clean { return s }
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            if isUnsafe(u.value) {
                switch u.value {
                case 0x09, 0x0A, 0x0D: out.append(" ")
                default: out.append("?")
                }
            } else {
                out.append(u)
            }
        }
        return String(out)
    }

    /// Display columns of one grapheme: 0, 1 or 2 (East Asian wide and emoji take 2).
    public static func width(of c: Character) -> Int {
        guard let first = c.unicodeScalars.first else { return 0 }
        let v = first.value
        if v < 0x20 || (v >= 0x7F && v < 0xA0) { return 0 }
        if v < 0x300 { return 1 }
        // The dashboard's own symbols, alone in their grapheme (a variation selector after one
        // can make it an emoji of two columns): punctuation (`…`), arrows, mathematical
        // operators (`≥`), box drawing, block elements (the sparklines) and geometric shapes
        // (`▲`), the dingbats `✔` and `✖`. None is a mark, wide, or an emoji by default
        // (U+25FD and U+25FE, past the range, are). Looking their properties up was a tenth of a
        // 200x50 frame.
        if c.utf8.count == 3, (0x2010..<0x2028).contains(v) || (0x2190..<0x2300).contains(v)
            || (0x2500..<0x25FD).contains(v) || v == 0x2714 || v == 0x2716 { return 1 }
        let gc = first.properties.generalCategory
        if gc == .nonspacingMark || gc == .enclosingMark || v == 0x200B || v == 0x200D { return 0 }
        if isWide(v) { return 2 }
        if first.properties.isEmojiPresentation { return 2 }
        if c.unicodeScalars.contains(where: { $0.value == 0xFE0F }) && first.properties.isEmoji { return 2 }
        return 1
    }

    static func isWide(_ v: UInt32) -> Bool {
        switch v {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
             0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60,
             0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            return true
        default:
            return false
        }
    }

    /// Display columns of a string.
    public static func width(_ s: String) -> Int {
        if isPrintableASCII(s) { return s.utf8.count }
        var w = 0
        for c in s { w += width(of: c) }
        return w
    }

    /// Clips to at most `columns` display columns (a wide character that would straddle the
    /// limit is dropped), appending `…` (or `~`) when `ellipsis` is set and text was cut.
    public static func clip(_ s: String, to columns: Int, ellipsis: String? = nil) -> String {
        if columns <= 0 { return "" }
        if width(s) <= columns { return s }
        let mark = ellipsis ?? ""
        let markW = width(mark)
        let room = max(0, columns - markW)
        var out = ""
        var w = 0
        for c in s {
            let cw = width(of: c)
            if w + cw > room { break }
            out.append(c)
            w += cw
        }
        return markW <= columns ? out + mark : out
    }

    /// Pads with spaces (or clips) to exactly `columns` display columns.
    public static func pad(_ s: String, to columns: Int, alignRight: Bool = false) -> String {
        let c = clip(s, to: columns)
        let gap = max(0, columns - width(c))
        let spaces = String(repeating: " ", count: gap)
        return alignRight ? spaces + c : c + spaces
    }
}
