import FlowCore

/// How many colours the terminal can show.
public enum ColorDepth: Int, Sendable, Comparable, CaseIterable {
    case none = 0
    case eight = 8
    case sixteen = 16
    case full256 = 256

    public static func < (a: ColorDepth, b: ColorDepth) -> Bool { a.rawValue < b.rawValue }

    /// The deepest level a terminal reporting `colors` colours supports.
    public init(colors: Int) {
        if colors >= 256 { self = .full256 } else if colors >= 16 { self = .sixteen } else if colors >= 8 { self = .eight } else { self = .none }
    }
}

/// The palettes the user can choose (`--theme`).
public enum ThemeName: String, Sendable, CaseIterable {
    /// Conventional RAG colours, at the terminal's best depth.
    case standard
    /// Okabe-Ito colour-blind-safe palette (vermillion, orange, sky blue, bluish green).
    case colorblind
    /// No colour at all: bold, reverse, underline and the glyphs carry the meaning.
    case monochrome
}

/// Colours and attributes of one role. A colour of -1 is the terminal's default (the user's
/// own background is kept: ncurses `use_default_colors`).
public struct RoleStyle: Equatable, Sendable {
    public var foreground: Int16
    public var background: Int16
    public var attributes: CellAttributes
    public var dim: Bool
    public init(foreground: Int16 = -1, background: Int16 = -1, attributes: CellAttributes = [], dim: Bool = false) {
        self.foreground = foreground
        self.background = background
        self.attributes = attributes
        self.dim = dim
    }
}

/// Glyphs and words: every status has a glyph *and* a word, so status is never colour alone.
public struct GlyphSet: Equatable, Sendable {
    public var unicode: Bool
    public var ok: String, warning: String, critical: String, unknown: String
    public var rising: String, falling: String, flat: String, trendUnknown: String
    public var spark: [String]
    public var sparkMissing: String
    public var differs: String
    public var ellipsis: String
    public var horizontal: String, vertical: String
    public var topLeft: String, topRight: String, bottomLeft: String, bottomRight: String
    public var selectedMark: String
    public var acked: String

    public static let unicodeSet = GlyphSet(
        unicode: true, ok: "✔", warning: "▲", critical: "✖", unknown: "?",
        rising: "↑", falling: "↓", flat: "→", trendUnknown: "·",
        spark: ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"], sparkMissing: "·", differs: "≠", ellipsis: "…",
        horizontal: "─", vertical: "│", topLeft: "┌", topRight: "┐", bottomLeft: "└", bottomRight: "┘",
        selectedMark: "▶", acked: "✔")

    public static let asciiSet = GlyphSet(
        unicode: false, ok: "+", warning: "!", critical: "X", unknown: "?",
        rising: "^", falling: "v", flat: "-", trendUnknown: ".",
        spark: ["_", ".", "-", "~", "=", "+", "*", "#"], sparkMissing: " ", differs: "*", ellipsis: "~",
        horizontal: "-", vertical: "|", topLeft: "+", topRight: "+", bottomLeft: "+", bottomRight: "+",
        selectedMark: ">", acked: "+")

    public func glyph(_ s: Status) -> String {
        switch s {
        case .ok: return ok
        case .warning: return warning
        case .critical: return critical
        case .unknown: return unknown
        }
    }

    /// Short word of a status (`OK`, `WARN`, `CRIT`, `n/a`).
    public static func word(_ s: Status) -> String {
        switch s {
        case .ok: return "OK"
        case .warning: return "WARN"
        case .critical: return "CRIT"
        case .unknown: return "n/a"
        }
    }

    /// Glyph and word together: `✖ CRIT`.
    public func label(_ s: Status) -> String { "\(glyph(s)) \(GlyphSet.word(s))" }

    public func trend(_ t: Int?) -> String {
        guard let t else { return trendUnknown }
        return t > 0 ? rising : (t < 0 ? falling : flat)
    }
}

/// Maps a role to colours, attributes and glyphs (htop's CRT colour schemes).
public struct Theme: Equatable, Sendable {
    public var name: ThemeName
    public var depth: ColorDepth
    public var glyphs: GlyphSet
    public private(set) var styles: [StyleRole: RoleStyle]

    /// - Parameters:
    ///   - depth: what the terminal supports; `.none` when `NO_COLOR`/`--no-color` is set.
    ///   - unicode: false when the locale cannot show UTF-8 (ASCII glyphs).
    public init(name: ThemeName, depth: ColorDepth, unicode: Bool = true) {
        let effectiveDepth: ColorDepth = name == .monochrome ? .none : depth
        self.name = name
        self.depth = effectiveDepth
        self.glyphs = unicode ? .unicodeSet : .asciiSet
        self.styles = Theme.makeStyles(name: name, depth: effectiveDepth)
    }

    /// True when `NO_COLOR` is set to a non-empty value (https://no-color.org).
    public static func noColorRequested(environment: [String: String]) -> Bool {
        if let v = environment["NO_COLOR"], !v.isEmpty { return true }
        return false
    }

    public func style(_ role: StyleRole) -> RoleStyle { styles[role] ?? RoleStyle() }

    private static func makeStyles(name: ThemeName, depth: ColorDepth) -> [StyleRole: RoleStyle] {
        // Attributes that carry meaning even without colour.
        var s: [StyleRole: RoleStyle] = [
            .normal: RoleStyle(),
            .header: RoleStyle(attributes: [.bold, .reverse]),
            .title: RoleStyle(attributes: [.bold]),
            .ok: RoleStyle(),
            .warning: RoleStyle(attributes: [.bold]),
            .critical: RoleStyle(attributes: [.bold, .reverse]),
            .unknown: RoleStyle(dim: true),
            .selected: RoleStyle(attributes: [.reverse]),
            .dim: RoleStyle(dim: true),
            .border: RoleStyle(),
            .paused: RoleStyle(attributes: [.bold, .reverse, .underline]),
            .replay: RoleStyle(attributes: [.bold]),
            .prompt: RoleStyle(attributes: [.bold, .underline]),
            .filter: RoleStyle(attributes: [.underline]),
        ]
        guard depth != .none else { return s }

        // Colour indices per depth: (ok, warning, critical, unknown, accent, border)
        let ok: Int16, warn: Int16, crit: Int16, unknown: Int16, accent: Int16, border: Int16
        switch (name, depth) {
        case (.colorblind, .full256):
            // Okabe-Ito: bluish green #009E73, orange #E69F00, vermillion #D55E00, grey, sky blue #56B4E9
            ok = 36; warn = 214; crit = 166; unknown = 245; accent = 74; border = 67
        case (.colorblind, _):
            // 8/16 colours: blue for ok, yellow for warning, magenta-red for critical
            ok = 4; warn = 3; crit = 5; unknown = depth == .sixteen ? 8 : 7; accent = 6; border = 4
        case (_, .full256):
            ok = 34; warn = 214; crit = 196; unknown = 244; accent = 39; border = 240
        case (_, .sixteen):
            ok = 10; warn = 11; crit = 9; unknown = 8; accent = 14; border = 8
        default:
            ok = 2; warn = 3; crit = 1; unknown = 7; accent = 6; border = 4
        }
        s[.ok] = RoleStyle(foreground: ok)
        s[.warning] = RoleStyle(foreground: warn, attributes: [.bold])
        // Critical keeps reverse video: the cell background becomes the critical colour.
        s[.critical] = RoleStyle(foreground: crit, attributes: [.bold, .reverse])
        s[.unknown] = RoleStyle(foreground: unknown, dim: depth == .eight)
        s[.header] = RoleStyle(foreground: accent, attributes: [.bold, .reverse])
        s[.title] = RoleStyle(foreground: accent, attributes: [.bold])
        s[.border] = RoleStyle(foreground: border)
        s[.dim] = RoleStyle(foreground: unknown)
        s[.paused] = RoleStyle(foreground: warn, attributes: [.bold, .reverse])
        s[.replay] = RoleStyle(foreground: accent, attributes: [.bold])
        s[.prompt] = RoleStyle(foreground: accent, attributes: [.bold])
        s[.filter] = RoleStyle(foreground: warn, attributes: [.underline])
        return s
    }
}
