import FlowCore

/// Number, duration and sparkline formatting shared by the widgets and the plain mode.
public enum Format {
    /// Missing values are shown as this, never as zero.
    public static let missing = "--"

    /// A metric value with a compact unit: `95.4%`, `12`, `45m`, `3.5h`, `--` when nil.
    public static func value(_ v: Double?, unit: String) -> String {
        guard let v, v.isFinite else { return missing }
        let u: String
        switch unit {
        case "min": u = "m"
        default: u = unit
        }
        return number(v, decimals: unit == "%" || unit == "h" || unit == "d" ? 1 : 0) + u
    }

    public static func value(_ reading: MetricReading) -> String { value(reading.value, unit: reading.key.unit) }

    /// `12`, `95.4`, `12.3k`; whole numbers drop their decimals.
    public static func number(_ v: Double, decimals: Int = 1) -> String {
        if abs(v) >= 100_000 { return trimmed(v / 1000, 0) + "k" }
        if abs(v) >= 10_000 { return trimmed(v / 1000, 1) + "k" }
        if v == v.rounded() { return String(Int64(v)) }
        return trimmed(v, max(decimals, abs(v) < 10 ? 1 : decimals))
    }

    private static func trimmed(_ v: Double, _ decimals: Int) -> String {
        if decimals <= 0 { return String(Int64(v.rounded())) }
        let scale = pow10(decimals)
        let r = (v * scale).rounded() / scale
        if r == r.rounded() { return String(Int64(r)) }
        let neg = r < 0
        let a = abs(r)
        let whole = Int64(a)
        var frac = Int64(((a - Double(whole)) * scale).rounded())
        var w = whole
        if Double(frac) >= scale { frac = 0; w += 1 }
        var fs = String(frac)
        while fs.count < decimals { fs = "0" + fs }
        return (neg ? "-" : "") + "\(w).\(fs)"
    }

    private static func pow10(_ n: Int) -> Double {
        var r = 1.0
        for _ in 0..<n { r *= 10 }
        return r
    }

    /// `45s`, `12m`, `2h05`, `3d04h` (how long an alert has been active, feed ages).
    public static func age(_ d: FlowCore.Duration?) -> String {
        guard let d else { return missing }
        let s = max(0, d.millis / 1000)
        if s < 60 { return "\(s)s" }
        let m = s / 60
        if m < 60 { return "\(m)m" }
        let h = m / 60
        if h < 24 { return m % 60 == 0 ? "\(h)h" : "\(h)h" + two(m % 60) }
        return "\(h / 24)d" + two(h % 24) + "h"
    }

    private static func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// Replay speed: `×60`, `max` for 0.
    public static func speed(_ s: Double, unicode: Bool) -> String {
        if s <= 0 { return "max" }
        return (unicode ? "×" : "x") + number(s, decimals: 1)
    }

    /// A sparkline of the last `width` points of `history`. Missing points show as the missing
    /// glyph. The scale spans the data and the levels, so thresholds shape the picture.
    public static func sparkline(_ history: [Double?], width: Int, glyphs: GlyphSet,
                                 levels: [Double] = []) -> [String] {
        guard width > 0 else { return [] }
        let pts = Array(history.suffix(width))
        let values = pts.compactMap { $0 } + levels
        guard let lo = values.min(), let hi = values.max() else {
            return Array(repeating: glyphs.sparkMissing, count: pts.count)
        }
        let n = glyphs.spark.count
        return pts.map { p in
            guard let p else { return glyphs.sparkMissing }
            if hi <= lo { return glyphs.spark[n / 2] }
            let f = (p - lo) / (hi - lo)
            let i = min(n - 1, max(0, Int((f * Double(n - 1)).rounded())))
            return glyphs.spark[i]
        }
    }

    /// The role of one history point against the metric's warning/critical levels (a marking of
    /// the thresholds the core gave; the current value's status always comes from the core).
    /// When the critical level is below the warning level, lower is worse.
    public static func thresholdRole(_ v: Double?, warning: Double?, critical: Double?) -> StyleRole {
        guard let v else { return .unknown }
        let lowerIsWorse: Bool = {
            if let w = warning, let c = critical { return c < w }
            return false
        }()
        func beyond(_ level: Double?) -> Bool {
            guard let level else { return false }
            return lowerIsWorse ? v <= level : v >= level
        }
        if beyond(critical) { return .critical }
        if beyond(warning) { return .warning }
        return .ok
    }

    /// `W≥92 C≥95` / `W≤78 C≤70` / empty when no levels.
    public static func levels(warning: Double?, critical: Double?, unit: String, unicode: Bool) -> String {
        let lowerIsWorse: Bool = {
            if let w = warning, let c = critical { return c < w }
            return false
        }()
        let op = lowerIsWorse ? (unicode ? "≤" : "<=") : (unicode ? "≥" : ">=")
        var parts: [String] = []
        if let w = warning { parts.append("W\(op)\(value(w, unit: unit))") }
        if let c = critical { parts.append("C\(op)\(value(c, unit: unit))") }
        return parts.joined(separator: " ")
    }

    /// `OPEL 3`, `OPEL --`.
    public static func opel(_ level: Int?) -> String { level.map { "OPEL \($0)" } ?? "OPEL \(missing)" }

    public static func unitKind(_ k: UnitKind) -> String {
        switch k {
        case .acute: return "acute"
        case .community: return "community"
        case .mentalHealth: return "mental health"
        case .urgentTreatment: return "urgent treatment"
        case .nhs111: return "NHS 111"
        case .ambulance: return "ambulance"
        }
    }

    /// A unit name that fits `columns`, keeping the part that tells units apart: first the full
    /// name; then without a `, town` suffix or a `(…)` remark; then without generic words
    /// ("Hospital", "NHS", "Trust", "FT", "Service", "General"); then clipped with an ellipsis.
    /// "Lister Hospital, Stevenage" -> "Lister Hospital" -> "Lister"; "Herts Urgent Care (NHS 111)"
    /// -> "Herts Urgent Care".
    public static func shortName(_ name: String, columns: Int, ellipsis: String = "…") -> String {
        if TerminalText.width(name) <= columns { return name }
        var s = name
        if let paren = s.firstIndex(of: "(") {
            let cut = String(s[..<paren]).trimmingCharacters()
            if !cut.isEmpty { s = cut }
            if TerminalText.width(s) <= columns { return s }
        }
        if let comma = s.firstIndex(of: ",") {
            let cut = String(s[..<comma]).trimmingCharacters()
            if !cut.isEmpty { s = cut }
            if TerminalText.width(s) <= columns { return s }
        }
        let generic: Set<String> = ["hospital", "nhs", "trust", "ft", "foundation", "service", "services",
                                    "general", "university", "hospitals"]
        var words = s.split(separator: " ").map(String.init)
        // Drop generic words from the end first, never the first word.
        var i = words.count - 1
        while i > 0, TerminalText.width(words.joined(separator: " ")) > columns {
            if generic.contains(words[i].lowercased()) { words.remove(at: i) }
            i -= 1
        }
        s = words.joined(separator: " ")
        return TerminalText.clip(s, to: columns, ellipsis: ellipsis)
    }

    /// What an alert is about, without the site name the row already shows, and with the
    /// threshold wording shortened: "Lister Hospital, Stevenage G&A occ 93.4% (warning at or above 92%)"
    /// -> "G&A occ 93.4% (warn ≥92%)". A value at a level is beyond it (docs/configuration.md),
    /// so the short form says `≥` / `≤` (`>=` / `<=` without Unicode): "Amb queue 5 (warn >5)"
    /// read as wrong to the people it warned.
    public static func alertText(_ summary: String, siteName: String, systemName: String? = nil, unicode: Bool = true) -> String {
        var s = summary
        for prefix in [siteName, systemName].compactMap({ $0 }) where !prefix.isEmpty {
            if s.hasPrefix(prefix + " ") { s = String(s.dropFirst(prefix.count + 1)); break }
        }
        s = shortenedLevels(s, unicode: unicode)
        if let f = s.first, f.isLowercase { s = f.uppercased() + s.dropFirst() }
        return s
    }

    /// `critical at or above ` -> `crit ≥`, `warning at or below ` -> `warn ≤` and the like (`>=`, `<=`
    /// without Unicode), in one pass over the UTF-8 bytes. (Each of the four replacements
    /// searched the whole summary through Foundation's `contains` and the standard library's
    /// `firstRange`, Character by Character: a third of the widgets' time in a 200x50 frame
    /// with 17 alerts, README "Measured".) The words are ASCII, and a match in valid UTF-8
    /// starts and ends on a scalar's boundary.
    static func shortenedLevels(_ s: String, unicode: Bool) -> String {
        let words = unicode ? unicodeLevelWords : asciiLevelWords
        let u = Array(s.utf8)
        var out: [UInt8] = []
        var i = 0, changed = false
        next: while i < u.count {
            if u[i] == UInt8(ascii: "c") || u[i] == UInt8(ascii: "w") {
                for (long, short) in words where i + long.count <= u.count && u[i..<(i + long.count)].elementsEqual(long) {
                    if !changed { out.reserveCapacity(u.count); out.append(contentsOf: u[0..<i]); changed = true }
                    out.append(contentsOf: short)
                    i += long.count
                    continue next
                }
            }
            if changed { out.append(u[i]) }
            i += 1
        }
        return changed ? String(decoding: out, as: UTF8.self) : s
    }

    private static func levelWords(above: String, below: String) -> [(long: [UInt8], short: [UInt8])] {
        [("critical at or above ", "crit " + above), ("warning at or above ", "warn " + above),
         ("critical at or below ", "crit " + below), ("warning at or below ", "warn " + below),
         // As sentences said before the eleventh session ("above 5" of a value at 5), which a
         // restart can restore from the notification log.
         ("critical above ", "crit " + above), ("warning above ", "warn " + above),
         ("critical below ", "crit " + below), ("warning below ", "warn " + below)].map { (Array($0.0.utf8), Array($0.1.utf8)) }
    }
    private static let unicodeLevelWords = levelWords(above: "≥", below: "≤")
    private static let asciiLevelWords = levelWords(above: ">=", below: "<=")

    /// The event clock for narrow headers: without the year ("Tue 20 Jan 22:40 GMT").
    public static func compactClock(_ clock: String) -> String {
        let parts = clock.split(separator: " ")
        let kept = parts.filter { !($0.count == 4 && $0.allSatisfy(\.isNumber)) }
        return kept.count == parts.count ? clock : kept.joined(separator: " ")
    }
}
