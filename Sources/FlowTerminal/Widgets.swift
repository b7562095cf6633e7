import FlowCore

/// Drawing helpers shared by the widgets.
enum Draw {
    /// A box of real box-drawing cells (ASCII under a non-UTF-8 locale) with a title.
    static func box(_ r: Rect, title: String?, into g: inout CellGrid, theme: Theme, focused: Bool = false) {
        guard r.width >= 2, r.height >= 2 else { return }
        let gl = theme.glyphs
        let role: StyleRole = .border
        let h = String(repeating: gl.horizontal, count: r.width - 2)
        g.put(gl.topLeft + h + gl.topRight, x: r.x, y: r.y, role: role)
        g.put(gl.bottomLeft + h + gl.bottomRight, x: r.x, y: r.maxY - 1, role: role)
        for y in (r.y + 1)..<(r.maxY - 1) {
            g.put(gl.vertical, x: r.x, y: y, role: role)
            g.put(gl.vertical, x: r.maxX - 1, y: y, role: role)
        }
        if let title, r.width > 6 {
            // Cut with `…` (a prompt's title was cut mid-word without a sign: `... Stevenag─┐`).
            let t = " " + TerminalText.clip(TerminalText.sanitize(title), to: r.width - 6, ellipsis: gl.ellipsis) + " "
            g.put(t, x: r.x + 2, y: r.y, role: .title, attributes: focused ? [.underline] : [],
                  maxWidth: r.width - 4)
        }
    }

    /// Text clipped to a rect's row, with an ellipsis when cut.
    @discardableResult
    static func text(_ s: String, x: Int, y: Int, width: Int, role: StyleRole = .normal,
                     attributes: CellAttributes = [], into g: inout CellGrid, theme: Theme,
                     alignRight: Bool = false) -> Int {
        guard width > 0 else { return 0 }
        let clean = TerminalText.sanitize(s)
        let clipped = TerminalText.clip(clean, to: width, ellipsis: theme.glyphs.ellipsis)
        let w = TerminalText.width(clipped)
        let x0 = alignRight ? x + width - w : x
        return g.put(clipped, x: x0, y: y, role: role, attributes: attributes, maxWidth: width)
    }
}

// MARK: - Header

/// Line 1: system name, system escalation level, clock, replay speed / REPLAY / PAUSED.
/// Line 2: feed health: age of the last message per feed and rejected lines.
enum HeaderWidget {
    static func draw(_ snap: DashboardSnapshot, paused: Bool, in r: Rect, into g: inout CellGrid, theme: Theme) {
        guard r.height > 0 else { return }
        let gl = theme.glyphs
        g.fill(Rect(x: r.x, y: r.y, width: r.width, height: 1), role: .header)

        // Right side first: it must never be cut (clock, markers).
        var right: [(String, StyleRole)] = []
        if let rp = snap.replay {
            let pct = Int((max(0, min(1, rp.progress)) * 100).rounded())
            let narrow = r.width < 100
            right.append(("REPLAY \(Format.speed(rp.speed, unicode: gl.unicode))" + (narrow ? "" : " \(pct)%"), .replay))
            if rp.finished { right.append(("END", .replay)) }
        }
        if paused || snap.replay?.paused == true {
            right.append(("PAUSED", .paused))
        }
        right.append((r.width < 100 ? Format.compactClock(snap.localClock) : snap.localClock, .header))
        let rightText = right.map(\.0).joined(separator: "  ")
        let rightW = min(r.width, TerminalText.width(rightText) + 1)
        var x = r.maxX - rightW
        for (i, part) in right.enumerated() {
            if i > 0 { x += g.put("  ", x: x, y: r.y, role: .header, maxWidth: r.maxX - x) }
            x += g.put(part.0, x: x, y: r.y, role: part.1, attributes: part.1 == .paused ? [.bold, .reverse] : [.bold],
                       maxWidth: r.maxX - x)
        }

        // Left: name and the system escalation level. The level matters more than the name: it
        // always gets its room, the name what is left (or nothing on a narrow screen).
        let leftRoom = r.width - rightW - 1
        let (levelText, role) = systemLevel(snap, glyphs: gl, long: leftRoom >= 16)
        let levelW = TerminalText.width(levelText)
        let nameRoom = leftRoom - levelW - 4
        var lx = r.x + 1
        if nameRoom >= 8 {
            lx += Draw.text(snap.systemName, x: lx, y: r.y, width: nameRoom, role: .header, attributes: [.bold],
                            into: &g, theme: theme)
            lx += 2
        }
        g.put(levelText, x: lx, y: r.y, role: role, attributes: [.bold], maxWidth: r.maxX - rightW - lx)

        guard r.height > 1 else { return }
        var fx = r.x + 1
        let y = r.y + 1
        // Live, the journal holding the input: the line's first place when the feeds would leave
        // it too little room (their ages count on while no line is taken, which is not news).
        let held = snap.journalHeldSince.map { "journal full: input held since \($0), rule ticks wait" }
        if let held, r.width < 140 {
            g.put(gl.critical + held, x: fx, y: y, role: .critical, maxWidth: r.maxX - fx)
            return
        }
        // Feed health.
        fx += g.put(r.width >= 100 ? "Last data:" : "Data:", x: fx, y: y, role: .dim, maxWidth: r.maxX - fx)
        // Each item whole or not at all (a feed, the total): cut, `111 37s (1116 rej) A` and
        // `reje` read as something else. Every feed's age is shown, or `…` says some are left
        // out (the last one went without a trace): the feeds' own rejected counts (the total
        // has them) give way first, then the wide gaps, then the feeds that do not fit.
        let feeds = snap.feeds.map { f -> (full: String, short: String, role: StyleRole) in
            let role: StyleRole = f.age == nil ? .unknown : (f.stale ? .warning : .normal)
            var t = f.feed.label + " " + (f.age == nil ? "none" : Format.age(f.age))
            // Whose: the age is the freshest site's, so `Beds 1m stale` read as a contradiction.
            if f.stale {
                let whose = f.staleSites.count == 1 ? f.staleSites[0] + " "
                    : f.staleSites.count > 1 ? "\(f.staleSites.count) sites " : ""
                t = gl.warning + t + " " + whose + "stale"
            }
            return (f.rejected > 0 ? t + " (\(f.rejected) rej)" : t, t, role)
        }
        var gap = r.width < 80 ? " " : "  "
        func width(_ texts: [String]) -> Int {
            texts.enumerated().reduce(0) { $0 + ($1.offset == 0 ? 1 : gap.count) + TerminalText.width($1.element) }
        }
        var texts = feeds.map(\.full)
        if width(texts) > r.maxX - fx { texts = feeds.map(\.short) }
        if width(texts) > r.maxX - fx { gap = " " }
        let all = width(texts) <= r.maxX - fx
        let mark = gap + gl.ellipsis
        for (i, t) in texts.enumerated() {
            let sep = i == 0 ? " " : gap
            // Room for the sign after it, unless every feed fits.
            guard TerminalText.width(sep + t) + (all ? 0 : TerminalText.width(mark)) <= r.maxX - fx else {
                fx += g.put(i == 0 ? " " + gl.ellipsis : mark, x: fx, y: y, role: .dim, maxWidth: r.maxX - fx)
                break
            }
            fx += g.put(sep, x: fx, y: y, maxWidth: r.maxX - fx)
            fx += g.put(t, x: fx, y: y, role: feeds[i].role, maxWidth: r.maxX - fx)
        }
        if let rej = ["  rejected \(snap.rejectedTotal)", "  rej \(snap.rejectedTotal)"].first(where: { TerminalText.width($0) <= r.maxX - fx }) {
            fx += g.put(rej, x: fx, y: y, role: snap.rejectedTotal > 0 ? .warning : .dim, maxWidth: r.maxX - fx)
        }
        // Live: the journal holding the input (for as long as it lasts), else the service's
        // latest warning (it matters more), else the latest rejected line, where and why (a file
        // has no one to answer).
        if let held {
            g.put("  " + gl.critical + held, x: fx, y: y, role: .critical, maxWidth: r.maxX - fx)
        } else if let w = snap.serviceWarning {
            if let t = Self.warningText(w, within: r.maxX - fx - 2 - TerminalText.width(gl.critical), ellipsis: gl.ellipsis) {
                g.put("  " + gl.critical + t, x: fx, y: y, role: .critical, maxWidth: r.maxX - fx)
            }
        } else if let last = snap.lastRejection, let text = Self.wholeWords(", last: " + last, within: r.maxX - fx, keep: 4) {
            g.put(text, x: fx, y: y, role: .warning, maxWidth: r.maxX - fx)
        }
    }
}

extension HeaderWidget {
    /// `text` cut at a space to fit `width` columns, with at least its first `keep` words (the
    /// rejected line's place and its reason: `, last: beds.jsonl:4 out_of_range:`), else nil: a
    /// reason cut mid-word (`out_of_r`) reads as a different reason, and the place alone says
    /// nothing.
    static func wholeWords(_ text: String, within width: Int, keep: Int) -> String? {
        var words = text.split(separator: " ", omittingEmptySubsequences: false)
        while words.count > keep, words.joined(separator: " ").count > width { words.removeLast() }
        let fitted = words.joined(separator: " ")
        return fitted.count <= width ? fitted : nil
    }

    /// The service's warning in `width` columns: whole; else its first words (two at least)
    /// and `…`, cut at the end of a clause where one fits (after `:`, `;` or `,`, or before
    /// `(`, outside brackets: `notifier hook is failing…`, where it read `notifier hook is
    /// failing: 3…`), else after any word; else a cue that one is in the log (`warning in
    /// log`); else nil. Cut anywhere, it read as `✖n` or `✖not`.
    static func warningText(_ w: String, within width: Int, ellipsis: String) -> String? {
        if TerminalText.width(w) <= width { return w }
        let words = w.split(separator: " ")
        var anyWord: String?
        var n = words.count - 1
        while n >= 2 {
            let t = words[..<n].joined(separator: " ")
            let depth = t.filter { $0 == "(" }.count - t.filter { $0 == ")" }.count
            let clause = depth == 0 && (t.last.map { ":;,".contains($0) } ?? false || words[n].hasPrefix("("))
            let trimmed = clause ? String(t.reversed().drop { ":;,".contains($0) }.reversed()) : t
            if clause, TerminalText.width(trimmed + ellipsis) <= width { return trimmed + ellipsis }
            if anyWord == nil, TerminalText.width(t + ellipsis) <= width { anyWord = t + ellipsis }
            n -= 1
        }
        return anyWord ?? ["warning, see urgentflow.log", "warning in log"].first { TerminalText.width($0) <= width }
    }

    /// "System OPEL 3 ▲": levels 3 and 4 take the warning and critical roles (and their glyph,
    /// so the level is never told by colour alone); 1 and 2 the header's; unknown the missing role.
    static func systemLevel(_ snap: DashboardSnapshot, glyphs gl: GlyphSet, long: Bool) -> (String, StyleRole) {
        var t = (long ? "System " : "") + Format.opel(snap.systemLevel)
        guard let level = snap.systemLevel else { return (t, .unknown) }
        switch level {
        case 4...: t += " " + gl.critical; return (t, .critical)
        case 3: t += " " + gl.warning; return (t, .warning)
        default: return (t, .header)
        }
    }
}

// MARK: - Site grid

/// One row per unit, columns chosen by width.
enum SiteGridWidget {
    enum ColumnKind: Equatable {
        case name, status, opel
        /// Why a site is WARN or CRIT when no column of its row shows it (`cause`).
        case cause
        case metric(MetricKey, spark: Int)
    }

    struct Column: Equatable {
        var title: String
        var width: Int
        var kind: ColumnKind
    }

    /// Metric columns of the table, by width tier.
    static func columns(forWidth w: Int) -> [Column] {
        func m(_ k: MetricKey, _ t: String, _ width: Int, spark: Int = 0) -> Column {
            Column(title: t, width: width + (spark > 0 ? spark + 1 : 0), kind: .metric(k, spark: spark))
        }
        var cols: [Column] = [
            Column(title: "Site", width: 0, kind: .name),
            Column(title: "Status", width: 6, kind: .status),
            Column(title: "OPEL", width: 5, kind: .opel),
        ]
        if w < 80 {
            cols += [m(.gaOccupancyPct, "G&A occ", 8), m(.dtocPatients, "DToC", 6), m(.ambulanceQueue, "AmbQ", 6)]
        } else if w < 120 {
            cols += [m(.gaOccupancyPct, "G&A occ", 8), m(.escalationBedsOpen, "Esc", 5), m(.dtocPatients, "DToC", 6),
                     m(.ambulanceQueue, "AmbQ", 6), m(.handoversOver60, "HO>60", 6), m(.ed4hPct, "4h", 8)]
        } else if w < 200 {
            cols += [m(.gaOccupancyPct, "G&A occ", 8, spark: 8), m(.escalationBedsOpen, "Esc", 5),
                     m(.dtocPatients, "DToC", 6, spark: 6), m(.ambulanceQueue, "AmbQ", 6, spark: 6),
                     m(.ambulanceLongestWaitMin, "Longest", 7), m(.handoversOver60, "HO>60", 6),
                     m(.ed4hPct, "4h", 8), m(.edInDepartment, "In ED", 6)]
        } else {
            cols += [m(.gaOccupancyPct, "G&A occ", 8, spark: 12), m(.escalationBedsOpen, "Esc", 5, spark: 6),
                     m(.dtocPatients, "DToC", 6, spark: 8), m(.ambulanceQueue, "AmbQ", 6, spark: 8),
                     m(.ambulanceLongestWaitMin, "Longest", 7), m(.handoversOver60, "HO>60", 6),
                     m(.handoverHoursLost, "Hrs lost", 8), m(.ed4hPct, "4h", 8, spark: 8),
                     m(.edInDepartment, "In ED", 6), m(.edDtaWaiting, "DTA", 5), m(.edOver12h, ">12h", 5)]
        }
        return cols
    }

    static let tableMetrics: Set<MetricKey> = {
        var s = Set<MetricKey>()
        for w in [60, 100, 150, 220] {
            for c in columns(forWidth: w) { if case .metric(let k, _) = c.kind { s.insert(k) } }
        }
        return s
    }()

    /// The cause column's widest (the longest rule id or metric label is cut to it).
    static func causeWidth(forWidth w: Int) -> Int { w >= 200 ? 24 : (w >= 120 ? 14 : 8) }

    /// A cause in `width` columns: a metric's share as `%` (`DToC share` -> `DToC%`), else cut.
    static func shortCause(_ s: String, width: Int) -> String {
        if TerminalText.width(s) <= width { return s }
        if s == SiteGridWidget.staleCause(.ambulance) { return staleCause(.ambulance, width: width) }
        return s.replacing(" share", with: "%").replacing(" incl esc", with: "+esc")
    }

    /// Why `site` is WARN or CRIT when none of the columns `shown` says so: the label of a
    /// metric at that status the row does not show (the DToC share, shown on the site's page
    /// only), else a firing alert at that severity whose metric is not at it: a stale feed's
    /// as the feed (`Beds stale`), a trend rule's as its metric's trend (`G&A occ trend`), from
    /// what the alert's rule watches (`AlertSnapshot.cause`). nil when the row shows it, or the
    /// site is neither WARN nor CRIT.
    /// `chipRoom`: the columns a unit drawn as chips (111, the ambulance service) has for them
    /// after its OPEL column; its chips that fit there are what its row shows (`chipsShown`).
    /// nil: all of them (it took them all as shown, so at 60 columns beside a Why column an
    /// ambulance service at CRIT whose `999 stack` did not fit gave no reason).
    static func cause(_ site: SiteSnapshot, shown: Set<MetricKey>, alerts: [AlertSnapshot], chipRoom: Int? = nil) -> String? {
        guard site.status == .warning || site.status == .critical else { return nil }
        let usesTable = site.metrics.contains { tableMetrics.contains($0.key) }
        // A unit drawn as chips shows its metrics at its status first (`drawChips`), as many as fit.
        let visible = usesTable ? shown : chipRoom.map { chipsShown(site, width: $0) } ?? Set(site.metrics.map(\.key))
        if site.metrics.contains(where: { visible.contains($0.key) && $0.value != nil && $0.status == site.status }) { return nil }
        if let m = site.metrics.first(where: { $0.value != nil && $0.status == site.status && $0.key != .opelLevel }) {
            return m.key.label
        }
        if let a = alerts.first(where: { $0.site == site.code && $0.state == .firing && Status($0.severity) == site.status }) {
            // In words, from what the alert's rule watches (the core's `AlertCause`): a rule id,
            // `stale_bed` or `ga_occupancy_trend`, read as nothing to a lead.
            switch a.cause {
            case .stale(let f)?: return staleCause(f)
            case .trend(let m)?: return m.label + " trend"
            case .metric(let m)?: return m.label
            case .score?: return "OPEL score"
            case nil: return a.rule
            }
        }
        return nil
    }

    /// The cause of a site whose `feed` is stale: `Beds stale`, `Ambulance stale` (`Amb stale`
    /// where the cause column is narrower).
    static func staleCause(_ feed: FeedKind, width: Int = .max) -> String {
        let full = feed.label + staleSuffix
        return TerminalText.width(full) <= width || feed != .ambulance ? full : "Amb" + staleSuffix
    }

    static let staleSuffix = " stale"

    /// The widest a stale feed's cause is given below 120 columns (`DToC stale`): whole, where a
    /// metric's label is cut to `causeWidth`.
    static let staleCauseWidth = 10

    /// The columns for a width with a cause column after the status when a site needs one,
    /// as wide as the longest cause (up to `causeWidth`), laid out in `inner` columns.
    /// The cause column takes its room from the metric columns (the rightmost go first), not
    /// from the names: they keep the room they have without it, up to 22 columns. (It took
    /// the names down to 9 columns at 80, where "Hertfordshi…" was two units.)
    /// A cause is worked out from what the laid-out row actually shows: the metric columns kept
    /// and, for a unit drawn as chips, the chips that fit (at 60 columns beside a Why column an
    /// ambulance service at CRIT showed no figure and no reason).
    static func columns(forWidth w: Int, inner: Int, sites: [SiteSnapshot], alerts: [AlertSnapshot]) -> (cols: [Column], causes: [String: String]) {
        let cols = columns(forWidth: w)
        let room = causeWidth(forWidth: w)
        func causes(for cols: [Column]) -> [String: String] {
            var kept = Set<MetricKey>()
            for c in cols { if case .metric(let k, _) = c.kind { kept.insert(k) } }
            let chips = chipRoom(cols, inner: inner)
            var out: [String: String] = [:]
            for site in sites {
                out[site.code] = cause(site, shown: kept, alerts: alerts, chipRoom: chips).map { shortCause($0, width: room) }
            }
            return out
        }
        let plain = layout(cols, inner: inner)
        var found = causes(for: plain)
        guard !found.isEmpty else { return (plain, found) }
        let nameFloor = min(22, plain.first { $0.kind == .name }?.width ?? 22)
        var why = 0
        var laid = plain
        // The Why column takes room from the metric columns and the chips: what then no longer
        // shows may need a reason too, and a wider column. A few rounds settle it: causes only
        // grow as the room shrinks.
        for _ in 0..<3 {
            let widest = found.values.map { TerminalText.width($0) }.max() ?? 0
            let cap = found.values.contains { $0.hasSuffix(staleSuffix) } ? max(room, staleCauseWidth) : room
            let want = max(3, min(widest, cap))
            if want <= why { break }
            why = want
            var withWhy = cols
            withWhy.insert(Column(title: "Why", width: why, kind: .cause), at: 2)
            laid = layout(withWhy, inner: inner, minimumName: nameFloor)
            found = causes(for: laid)
        }
        return (laid, found)
    }

    /// The columns left for a chips row's chips, after its OPEL column (`drawRow`).
    static func chipRoom(_ cols: [Column], inner: Int) -> Int {
        guard let opel = cols.firstIndex(where: { $0.kind == .opel }) else { return inner }
        return inner - cols[...opel].reduce(0) { $0 + $1.width + 1 }
    }

    /// A chips row's metrics in the order drawn: those at the unit's status first (its WARN was
    /// a chip cut at the row's end), without the OPEL figures.
    static func chipOrder(_ site: SiteSnapshot) -> [MetricReading] {
        let first = site.status == .warning || site.status == .critical
            ? site.metrics.filter { $0.value != nil && $0.status == site.status } : []
        let chips = first + site.metrics.filter { m in !first.contains { $0.key == m.key } }
        return chips.filter { $0.key != .opelLevel && $0.key != .opelScore }
    }

    /// A chip's label and its value with status glyph and trend (`999 stack `, `261✖↑`).
    static func chipText(_ m: MetricReading, glyphs gl: GlyphSet) -> (label: String, value: String) {
        let status: Status = m.value == nil ? .unknown : m.status
        return (m.key.label + " ", Format.value(m) + gl.glyph(status) + (m.value == nil ? gl.trendUnknown : gl.trend(m.trend)))
    }

    /// The chips drawn in `width` columns: each whole, in `chipOrder`, until one does not fit.
    /// Glyphs and trend arrows take one column in every glyph set.
    static func chipsFitting(_ metrics: [MetricReading], width: Int, glyphs gl: GlyphSet = .unicodeSet) -> [MetricReading] {
        var used = 0
        var out: [MetricReading] = []
        for m in metrics {
            let t = chipText(m, glyphs: gl)
            let need = TerminalText.width(t.label) + TerminalText.width(t.value)
            if used + need > width { break }
            out.append(m)
            used += need + 2
        }
        return out
    }

    static func chipsShown(_ site: SiteSnapshot, width: Int) -> Set<MetricKey> {
        Set(chipsFitting(chipOrder(site), width: width).map(\.key))
    }

    /// Lays out column widths to fill `inner` columns (the name column takes what is left).
    /// The name matters more than a sparkline: sparklines go first (right to left) while the
    /// name has fewer than 22 columns, then whole metric columns while it has fewer than
    /// `minimumName` (12; beside a cause column, what the name has without it, up to 22).
    static func layout(_ cols: [Column], inner: Int, minimumName: Int = 12) -> [Column] {
        var cols = cols
        func nameRoom() -> Int { inner - cols.filter { $0.kind != .name }.reduce(0) { $0 + $1.width + 1 } - 1 }
        var i = cols.count - 1
        while nameRoom() < 22, i >= 0 {
            if case .metric(let k, let spark) = cols[i].kind, spark > 0 {
                cols[i].width -= spark + 1
                cols[i].kind = .metric(k, spark: 0)
            }
            i -= 1
        }
        var nameW = nameRoom()
        // Drop metric columns from the right until the name has at least its minimum.
        while nameW < minimumName, let last = cols.last, case .metric = last.kind {
            let removed = cols.removeLast()
            nameW += removed.width + 1
        }
        nameW = min(max(nameW, 6), 40)
        if let i = cols.firstIndex(where: { $0.kind == .name }) { cols[i].width = nameW }
        return cols
    }

    static func draw(_ c: DashboardController, in r: Rect, into g: inout CellGrid, theme: Theme) {
        let sites = c.visibleSites
        var title = "Sites \(sites.count)"
        if sites.count != c.snapshot.sites.count { title += "/\(c.snapshot.sites.count)" }
        if !c.state.filter.isEmpty { title += " filter: \(c.state.filter)" }
        Draw.box(r, title: title, into: &g, theme: theme, focused: c.state.focus == .sites)
        let inner = r.inset(by: 1)
        guard inner.height > 1, inner.width > 4 else { return }
        let (cols, causes) = columns(forWidth: r.width, inner: inner.width, sites: sites, alerts: c.snapshot.alerts)

        // Column titles.
        var x = inner.x
        for col in cols {
            let alignRight: Bool = { if case .metric = col.kind { return true }; return false }()
            Draw.text(col.title, x: x, y: inner.y, width: col.width, role: .dim, attributes: [.underline],
                      into: &g, theme: theme, alignRight: alignRight && col.width > 0)
            x += col.width + 1
        }
        let rows = inner.height - 1
        if sites.isEmpty {
            Draw.text(c.state.filter.isEmpty ? "No sites" : "No site matches the filter", x: inner.x, y: inner.y + 1,
                      width: inner.width, role: .dim, into: &g, theme: theme)
            return
        }
        let sel = c.selectedSiteIndex ?? 0
        let top = scrollTop(selected: sel, count: sites.count, rows: rows)
        for (i, site) in sites.enumerated().dropFirst(top).prefix(rows) {
            let y = inner.y + 1 + (i - top)
            let selected = i == sel && c.state.detailSite == nil
            drawRow(site, cols: cols, cause: causes[site.code], x: inner.x, y: y, width: inner.width, selected: selected,
                    focused: c.state.focus == .sites, into: &g, theme: theme)
        }
        if top > 0 { g.put(theme.glyphs.unicode ? "▲" : "^", x: r.maxX - 1, y: inner.y + 1, role: .dim) }
        if top + rows < sites.count { g.put(theme.glyphs.unicode ? "▼" : "v", x: r.maxX - 1, y: r.maxY - 2, role: .dim) }
    }

    static func scrollTop(selected: Int, count: Int, rows: Int) -> Int {
        guard rows > 0, count > rows else { return 0 }
        return min(max(0, selected - rows / 2), count - rows)
    }

    static func drawRow(_ site: SiteSnapshot, cols: [Column], cause: String? = nil, x: Int, y: Int, width: Int, selected: Bool,
                        focused: Bool, into g: inout CellGrid, theme: Theme) {
        let gl = theme.glyphs
        var cx = x
        let usesTable = site.metrics.contains { tableMetrics.contains($0.key) }
        columns: for col in cols {
            switch col.kind {
            case .name:
                let mark = selected ? gl.selectedMark : " "
                g.put(mark, x: cx, y: y, role: selected ? .selected : .normal)
                Draw.text(Format.shortName(site.name, columns: col.width - 1, ellipsis: gl.ellipsis), x: cx + 1, y: y, width: col.width - 1,
                          role: selected ? .selected : .normal, attributes: selected && focused ? [.bold] : [],
                          into: &g, theme: theme)
            case .status:
                g.put(gl.label(site.status), x: cx, y: y, role: StyleRole(site.status), maxWidth: col.width)
            case .cause:
                if let cause {
                    Draw.text(cause, x: cx, y: y, width: col.width, role: StyleRole(site.status), into: &g, theme: theme)
                }
            case .opel:
                drawOpel(site, x: cx, y: y, width: col.width, into: &g, theme: theme)
            case .metric(let key, let spark):
                guard usesTable else { break }
                if let m = site.metric(key) {
                    drawMetric(m, x: cx, y: y, width: col.width, spark: spark, into: &g, theme: theme)
                }
            }
            cx += col.width + 1
            if col.kind == .opel && !usesTable {
                // Units without bed/ambulance figures (111, ambulance service): labelled chips,
                // those at the unit's status first (its WARN was a chip cut at the row's end).
                drawChips(chipOrder(site), x: cx, y: y, width: x + width - cx, into: &g, theme: theme)
                break columns
            }
        }
        if selected { g.restyleRoleOnly(Rect(x: x, y: y, width: 1, height: 1), role: .selected) }
    }

    static func drawOpel(_ site: SiteSnapshot, x: Int, y: Int, width: Int, into g: inout CellGrid, theme: Theme) {
        let auto = site.opelLevel.map(String.init) ?? Format.missing
        var t = auto
        if let d = site.declaredOpel {
            t += "/\(d)"
            // Only when both are known: with the automated level unknown there is no difference
            // to mark (`--/2≠` read as the levels disagreeing).
            if let a = site.opelLevel, d != a { t += theme.glyphs.differs }
        }
        let role: StyleRole = site.opelLevel == nil ? .unknown : site.metric(.opelLevel).map { StyleRole($0.status) } ?? .normal
        Draw.text(t, x: x, y: y, width: width, role: role, into: &g, theme: theme)
    }

    /// `95.4%✖↑▁▂▃` right-aligned value, status glyph, trend, optional sparkline.
    static func drawMetric(_ m: MetricReading, x: Int, y: Int, width: Int, spark: Int, into g: inout CellGrid, theme: Theme) {
        let gl = theme.glyphs
        let status: Status = m.value == nil ? .unknown : m.status
        let role = StyleRole(status)
        let valueW = width - (spark > 0 ? spark + 1 : 0) - 2
        Draw.text(Format.value(m), x: x, y: y, width: valueW, role: role, into: &g, theme: theme, alignRight: true)
        g.put(gl.glyph(status), x: x + valueW, y: y, role: role, maxWidth: 1)
        g.put(m.value == nil ? gl.trendUnknown : gl.trend(m.trend), x: x + valueW + 1, y: y, role: .dim, maxWidth: 1)
        if spark > 0 {
            let cells = Format.sparkline(m.history, width: spark, glyphs: gl)
            var sx = x + width - cells.count
            for (i, s) in cells.enumerated() {
                let v = m.history.suffix(spark)[m.history.suffix(spark).startIndex + i]
                g.put(s, x: sx, y: y, role: v == nil ? .unknown : .dim, maxWidth: 1)
                sx += 1
            }
        }
    }

    static func drawChips(_ metrics: [MetricReading], x: Int, y: Int, width: Int, into g: inout CellGrid, theme: Theme) {
        let gl = theme.glyphs
        var cx = x
        for m in chipsFitting(metrics.filter { $0.key != .opelLevel && $0.key != .opelScore }, width: width, glyphs: gl) {
            let status: Status = m.value == nil ? .unknown : m.status
            let t = chipText(m, glyphs: gl)
            cx += g.put(t.label, x: cx, y: y, role: .dim)
            cx += g.put(t.value, x: cx, y: y, role: StyleRole(status))
            cx += 2
        }
    }
}

extension CellGrid {
    /// Changes only the role of cells, keeping attributes.
    mutating func restyleRoleOnly(_ r: Rect, role: StyleRole) {
        for y in r.y..<r.maxY { for x in r.x..<r.maxX where x >= 0 && y >= 0 && x < width && y < height {
            var c = self[x, y]
            c.role = role
            setCell(c, x: x, y: y)
        } }
    }
}
