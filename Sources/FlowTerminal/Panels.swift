import FlowCore

// MARK: - Alert panel

/// Active alerts, most urgent first: state, site, what (metric, value, threshold), how long,
/// who was warned, who acknowledged (and their note).
enum AlertPanelWidget {
    /// Display order: raised alerts (firing, then unknown) before pending ones; within that the
    /// most severe first, alerts nobody has acknowledged before acknowledged ones, then oldest
    /// first. The core's order (severity, then age) breaks the remaining ties.
    static func displayOrder(_ alerts: [AlertSnapshot]) -> [AlertSnapshot] {
        func stateRank(_ s: AlertState) -> Int {
            switch s {
            case .firing: return 0
            case .unknown: return 1
            case .pending: return 2
            case .resolved: return 3
            }
        }
        return alerts.enumerated().sorted { l, r in
            let a = l.element, b = r.element
            if stateRank(a.state) != stateRank(b.state) { return stateRank(a.state) < stateRank(b.state) }
            if a.severity != b.severity { return a.severity > b.severity }
            let aa = a.acknowledgedBy != nil, ba = b.acknowledgedBy != nil
            if aa != ba { return !aa }
            if a.since != b.since { return a.since < b.since }
            return l.offset < r.offset
        }.map(\.element)
    }

    /// Column widths of an alert row for an inner width (0: column not shown).
    struct Layout: Equatable {
        var state = 6, site = 0, rule = 0, age = 5, warned = 0, ack = 0
        var what: Int

        /// `ruleWant`, `siteWant` and `whatWant`: the longest rule id, site name and alert text
        /// of the alerts shown (nil: not known). On a huge screen the rule and then the site
        /// column grow to theirs (up to 40) from what the alert's text does not need: a long
        /// rule id was cut at 200 columns with room left. The text keeps at least 40 columns,
        /// and 70 where an acknowledgement's note goes with it (`drawRow`).
        init(width: Int, showSite: Bool, ruleWant: Int = 0, siteWant: Int = 0, whatWant: Int? = nil, notes: Bool = false) {
            what = 0
            let wide = width >= 110, medium = width >= 76, huge = width >= 150
            if showSite { site = huge ? 26 : (wide ? 20 : (medium ? 12 : 11)) }
            if huge { rule = 22 }
            if medium { warned = huge ? 22 : (wide ? 14 : 10) }
            ack = huge ? 34 : (wide ? 24 : (medium ? 12 : 8))
            // Without the site column (site detail) the acknowledgement and its note get room.
            if !showSite, medium { ack += wide ? 14 : 8 }
            func rest() -> Int {
                width - (1 + [state, site, rule, age, warned, ack].filter { $0 > 0 }.reduce(0) { $0 + $1 + 1 })
            }
            if huge, let whatWant {
                let floor = notes ? 70 : max(40, min(whatWant, 70))
                rule += max(0, min(min(ruleWant, 40) - rule, rest() - floor))
                if site > 0 { site += max(0, min(min(siteWant, 40) - site, rest() - floor)) }
            }
            what = max(0, rest())
        }
    }

    /// What the panel's title says of an active filter: `filter: RQW (3 hidden)`.
    static func filterNote(filter: String, hidden: Int) -> (filter: String, hidden: String) {
        (filter, hidden == 0 ? "(none hidden)" : "(\(hidden) hidden)")
    }

    /// The panel's title, with the filter's note (in the filter's style) after it when a filter
    /// is on. Where room is short the title's parenthesis goes first, then the filter's text is
    /// cut; the hidden count is never cut.
    static func drawTitle(_ title: String, filterNote: (filter: String, hidden: String)?, in r: Rect,
                          into g: inout CellGrid, theme: Theme, focused: Bool) {
        guard let note = filterNote, r.width > 6 else {
            Draw.box(r, title: title, into: &g, theme: theme, focused: focused)
            return
        }
        Draw.box(r, title: nil, into: &g, theme: theme, focused: focused)
        let attrs: CellAttributes = focused ? [.underline] : []
        let dash = theme.glyphs.unicode ? "\u{2014}" : "-"
        let room = r.width - 4   // between the corners' two columns each side
        let tail = " " + note.hidden + " "
        // The title's first word and count ("Alerts 3") always; its parenthesis if it fits.
        let shortTitle = title.split(separator: " ").prefix(2).joined(separator: " ")
        var head = " " + title + " " + dash + " filter: "
        if TerminalText.width(head) + 1 + TerminalText.width(tail) > room {
            head = " " + shortTitle + " " + dash + " filter: "
        }
        if TerminalText.width(head) + 1 + TerminalText.width(tail) > room { head = " filter: " }
        let filterRoom = max(1, room - TerminalText.width(head) - TerminalText.width(tail))
        let shownFilter = TerminalText.clip(TerminalText.sanitize(note.filter), to: filterRoom, ellipsis: theme.glyphs.ellipsis)
        var x = r.x + 2
        let end = r.x + 2 + room
        x += g.put(head, x: x, y: r.y, role: .title, attributes: attrs, maxWidth: end - x)
        x += g.put(shownFilter, x: x, y: r.y, role: .filter, attributes: attrs, maxWidth: end - x)
        g.put(tail, x: x, y: r.y, role: .filter, attributes: attrs, maxWidth: end - x)
    }

    static func draw(_ c: DashboardController, alerts: [AlertSnapshot], title: String,
                     filterNote: (filter: String, hidden: String)? = nil, showSite: Bool = true,
                     in r: Rect, into g: inout CellGrid, theme: Theme) {
        drawTitle(title, filterNote: filterNote, in: r, into: &g, theme: theme, focused: c.state.focus == .alerts)
        var inner = r.inset(by: 1)
        guard inner.height > 0, inner.width > 4 else { return }
        if alerts.isEmpty {
            var t = "No active alerts"
            if let n = filterNote { t = "No alert matches the filter \"\(n.filter)\" " + n.hidden + "; Esc clears it" }
            Draw.text(t, x: inner.x, y: inner.y, width: inner.width, role: filterNote == nil ? .dim : .filter, into: &g, theme: theme)
            return
        }
        let names = Dictionary(c.snapshot.sites.map { ($0.code, $0.name) }, uniquingKeysWith: { a, _ in a })
        func name(_ a: AlertSnapshot) -> String { names[a.site] ?? (a.site == systemSiteCode ? "System" : a.site) }
        let layout = Layout(width: inner.width, showSite: showSite,
                            ruleWant: alerts.map { TerminalText.width($0.rule) }.max() ?? 0,
                            siteWant: alerts.map { TerminalText.width(name($0)) }.max() ?? 0,
                            whatWant: alerts.map {
                                TerminalText.width(Format.alertText($0.summary, siteName: name($0), systemName: c.snapshot.systemName,
                                                                    unicode: theme.glyphs.unicode))
                            }.max() ?? 0,
                            notes: alerts.contains { $0.ackNote.map { !$0.isEmpty } ?? false })
        // Column titles when there is a spare row.
        if inner.height > alerts.count {
            drawTitles(layout, x: inner.x, y: inner.y, width: inner.width, into: &g, theme: theme)
            inner = Rect(x: inner.x, y: inner.y + 1, width: inner.width, height: inner.height - 1)
        }
        let sel = c.selectedAlertIndex ?? 0
        let top = SiteGridWidget.scrollTop(selected: sel, count: alerts.count, rows: inner.height)
        // The zone's calendar once a frame, for the digest times of rows held for one.
        let calendar = alerts.contains { $0.heldForDigestUntil != nil } ? LocalCalendar(identifier: c.snapshot.timeZone) : nil
        for (i, a) in alerts.enumerated().dropFirst(top).prefix(inner.height) {
            let y = inner.y + (i - top)
            drawRow(a, siteName: name(a), systemName: c.snapshot.systemName, now: c.snapshot.now, calendar: calendar,
                    layout: layout,
                    x: inner.x, y: y, width: inner.width,
                    selected: i == sel && c.state.focus == .alerts, into: &g, theme: theme)
        }
        if top > 0 { g.put(theme.glyphs.unicode ? "▲" : "^", x: r.maxX - 1, y: inner.y, role: .dim) }
        if top + inner.height < alerts.count {
            g.put(theme.glyphs.unicode ? "▼" : "v", x: r.maxX - 1, y: inner.maxY - 1, role: .dim)
        }
    }

    static func drawTitles(_ l: Layout, x: Int, y: Int, width: Int, into g: inout CellGrid, theme: Theme) {
        var cx = x + 1
        let end = x + width
        func col(_ t: String, _ w: Int, right: Bool = false) {
            guard w > 0, cx < end else { return }
            Draw.text(t, x: cx, y: y, width: min(w, end - cx), role: .dim, attributes: [.underline], into: &g, theme: theme,
                      alignRight: right)
            cx += w + 1
        }
        col("State", l.state)
        col("Site", l.site)
        col("Rule", l.rule)
        col("Alert", l.what)
        col("For", l.age, right: true)
        col("Warned", l.warned)
        col(l.ack >= 12 ? "Acknowledged" : "Ack", l.ack)
    }

    /// Where the "For" column counts from: when it fired, or for a pending alert when it went
    /// pending (the episode's `since`). Alerts without a firing instant (urgentflow's own) fired
    /// at `since`.
    static func forStart(_ a: AlertSnapshot) -> EventTime {
        a.state == .pending ? a.since : (a.firedAt ?? a.since)
    }

    /// The words of an alert's state: severity for firing, otherwise the state.
    static func stateLabel(_ a: AlertSnapshot, glyphs: GlyphSet) -> (String, StyleRole) {
        switch a.state {
        case .firing:
            let s = Status(a.severity)
            return (glyphs.label(s), StyleRole(s))
        case .pending:
            return (glyphs.glyph(Status(a.severity)) + " pend", .dim)
        case .unknown:
            return (glyphs.label(.unknown), .unknown)
        case .resolved:
            return ("done", .dim)
        }
    }

    /// The Warned column of an alert whose latest message waits in its lead's digest (their
    /// budget of messages is spent) when that lead has not been told of it before: `held
    /// (digest 14:30)`, the local minute the digest goes out (`held to 14:30`, `held 14:30` as
    /// room shrinks). nil otherwise: a lead told of the firing and whose reminder waits was
    /// warned, and is named.
    /// `calendar`: the system's zone (nil: the time in UTC).
    static func heldText(_ a: AlertSnapshot, width: Int, calendar: LocalCalendar?) -> String? {
        guard let until = a.heldForDigestUntil, a.toldName != a.leadName else { return nil }
        let due = EventTime(millis: (until.millis + 59_999) / 60_000 * 60_000)   // the minute's tick that sends it
        let clock = calendar?.clockText(due) ?? String(RFC3339.format(due).dropFirst(11).prefix(5))
        if width >= 19 { return "held (digest \(clock))" }
        return (width >= 13 ? "held to " : "held ") + clock
    }

    /// The Warned column of an alert nobody was sent a message of (with notifications), saying
    /// why: `not sent: silenced` (`none: silenced`, `silenced` as room shrinks), the same for
    /// `unstable` (held back as flapping), else `nobody yet`.
    static func notWarnedText(_ why: NotWarned, width: Int) -> String {
        let reason: String
        switch why {
        case .notYet: return width >= 10 ? "nobody yet" : "nobody"
        case .silenced: reason = "silenced"
        case .unstable: reason = "unstable"
        }
        if width >= 18 { return "not sent: " + reason }
        return width >= 14 ? "none: " + reason : reason
    }

    static func drawRow(_ a: AlertSnapshot, siteName: String, systemName: String, now: EventTime, calendar: LocalCalendar?,
                        layout l: Layout,
                        x: Int, y: Int, width: Int, selected: Bool, into g: inout CellGrid, theme: Theme) {
        let gl = theme.glyphs
        var cx = x
        let end = x + width
        func col(_ text: String, _ w: Int, _ role: StyleRole, right: Bool = false) {
            guard w > 0, cx < end else { return }
            let ww = min(w, end - cx)
            Draw.text(text, x: cx, y: y, width: ww, role: role, into: &g, theme: theme, alignRight: right)
            cx += w + 1
        }
        g.put(selected ? gl.selectedMark : " ", x: cx, y: y, role: selected ? .selected : .normal)
        cx += 1
        let (label, role) = stateLabel(a, glyphs: gl)
        col(label, l.state, role)
        col(Format.shortName(siteName, columns: l.site, ellipsis: gl.ellipsis), l.site, selected ? .selected : .normal)
        col(a.rule, l.rule, .dim)
        var what = Format.alertText(a.summary, siteName: siteName, systemName: systemName, unicode: gl.unicode)
        if l.ack >= 30, let n = a.ackNote, !n.isEmpty, l.what >= 70 { what += " | note: " + n }
        col(what, l.what, .normal)
        // How long it has fired (the log's firing line's `at`); a pending alert, how long it
        // has been pending (its state column says "pend"), from the episode's `since`.
        col(Format.age(now - forStart(a)), l.age, .dim, right: true)
        if l.warned > 0 {
            if let held = Self.heldText(a, width: l.warned, calendar: calendar) {
                col(held, l.warned, .unknown)
            } else if let why = a.notWarned {
                col(Self.notWarnedText(why, width: l.warned), l.warned, .unknown)
            } else {
                let lead = a.leadName ?? a.leadID
                let warned = lead ?? (a.state == .pending ? "not yet" : "nobody")
                col(warned, l.warned, lead == nil ? .unknown : .normal)
            }
        }
        let ack: String
        if let by = a.acknowledgedBy {
            // Who first, then their note, then when (as room allows).
            var t = gl.acked + " ack " + by
            let note = a.ackNote.flatMap { $0.isEmpty ? nil : $0 }
            let noteInWhat = l.ack >= 30 && l.what >= 70
            if l.ack >= 24, let at = a.acknowledgedAt, note == nil || noteInWhat || l.ack >= 34 {
                t += " " + Format.age(now - at) + " ago"
            }
            if let note, !noteInWhat, l.ack >= 20 { t += ": " + note }
            ack = t
        } else if let until = a.silencedUntil {
            // Silenced: notifications stop until then; who and why as room allows. Said of a
            // pending alert too: it would page nobody if it fired (the row said "--", and the
            // silence just given showed nowhere).
            let left = Format.age(until - now)
            var t = (l.ack >= left.count + 9 ? "silenced " : "sil ") + left
            // Who, cut with `…` when the whole name does not fit (it said only `silenced 1h`
            // with 24 columns, the name two too long), if four columns of it do.
            if let by = a.silencedBy, !by.isEmpty {
                let room = l.ack - TerminalText.width(t) - 4
                if TerminalText.width(by) <= room {
                    t += " by " + by
                    if let why = a.silenceReason, !why.isEmpty, TerminalText.width(t) + TerminalText.width(why) + 2 <= l.ack { t += ": " + why }
                } else if room >= 4 {
                    t += " by " + TerminalText.clip(by, to: room, ellipsis: gl.ellipsis)
                }
            } else if let why = a.silenceReason, !why.isEmpty, TerminalText.width(t) + TerminalText.width(why) + 2 <= l.ack {
                t += ": " + why
            }
            ack = t
        } else if a.notifier != nil {
            // urgentflow's own alert: nobody acknowledges it; it goes when a delivery succeeds.
            ack = l.ack >= 18 ? "clears on delivery" : (l.ack >= 11 ? "self-clears" : "auto")
        } else if a.state == .pending {
            ack = Format.missing  // not raised yet: nothing to acknowledge
        } else if let by = a.expiredAckBy {
            // Its acknowledgement expired: not acknowledged (the leads are told again), and said
            // so, with whose it was and when it expired, as room allows.
            var t = l.ack >= 11 ? "ack expired" : "expired"
            if let at = a.ackExpiredAt, l.ack >= t.count + 1 + Format.age(now - at).count + 4 { t += " " + Format.age(now - at) + " ago" }
            if t.count + by.count + 2 <= l.ack { t += ": " + by }
            ack = t
        } else {
            ack = l.ack >= 12 ? "not acked" : "unacked"
        }
        col(ack, l.ack, a.acknowledgedBy != nil ? .ok : (a.state == .pending || a.silencedUntil != nil || a.notifier != nil ? .dim : .warning))
    }
}

// MARK: - Site detail

/// Every metric with its history over the last hours, thresholds marked, and the site's alerts.
enum DetailWidget {
    static func draw(_ c: DashboardController, site: SiteSnapshot, in r: Rect, into g: inout CellGrid, theme: Theme) {
        let gl = theme.glyphs
        // The metrics box takes what its rows need; the site's alerts get the rest (at least 3 rows).
        let alerts = c.visibleAlerts
        let metricsWant = site.metrics.count + 5 + (site.staleFeeds.isEmpty ? 0 : 1)
        let alertsMin = alerts.isEmpty ? 3 : min(alerts.count + 2, 5)
        let metricsH = max(5, min(metricsWant, r.height - alertsMin))
        let mr = Rect(x: r.x, y: r.y, width: r.width, height: min(metricsH, r.height))
        let ar = Rect(x: r.x, y: mr.maxY, width: r.width, height: r.maxY - mr.maxY)
        Draw.box(mr, title: "\(site.name) (\(site.code))", into: &g, theme: theme, focused: c.state.focus == .sites)
        if ar.height >= 3 {
            AlertPanelWidget.draw(c, alerts: alerts, title: "Alerts at \(site.name) \(alerts.count)", showSite: false,
                                  in: ar, into: &g, theme: theme)
        }
        let inner = mr.inset(by: 1)
        guard inner.height > 2, inner.width > 10 else { return }
        var y = inner.y
        // Summary line.
        var x = inner.x
        x += g.put(Format.unitKind(site.kind) + "  ", x: x, y: y, role: .dim, maxWidth: inner.maxX - x)
        x += g.put(gl.label(site.status), x: x, y: y, role: StyleRole(site.status), maxWidth: inner.maxX - x)
        var opel = "  OPEL auto " + (site.opelLevel.map(String.init) ?? Format.missing)
        if let s = site.opelScore { opel += " (score \(Format.number(s)))" }
        opel += " / declared " + (site.declaredOpel.map(String.init) ?? Format.missing)
        let differs = site.declaredOpel != nil && site.opelLevel != nil && site.declaredOpel != site.opelLevel
        x += g.put(opel, x: x, y: y, role: site.opelLevel == nil ? .unknown : .normal, maxWidth: inner.maxX - x)
        if differs { g.put(" " + gl.differs + " differ", x: x, y: y, role: .warning, maxWidth: inner.maxX - x) }
        y += 1
        // When each feed last sent data for this site (missing feeds say so).
        var lx = inner.x
        lx += g.put("Last data:", x: lx, y: y, role: .dim, maxWidth: inner.maxX - lx)
        let expected = FeedKind.allCases.filter { site.lastSeen[$0] != nil || site.staleFeeds.contains($0) }
        if expected.isEmpty { g.put(" none yet", x: lx, y: y, role: .unknown, maxWidth: inner.maxX - lx) }
        for f in expected {
            let stale = site.staleFeeds.contains(f)
            let age = site.lastSeen[f].map { Format.age(c.snapshot.now - $0) + " ago" } ?? "never"
            lx += g.put("  " + (stale ? gl.warning : "") + f.label + " " + age + (stale ? " stale" : ""), x: lx, y: y,
                        role: stale ? .warning : .normal, maxWidth: inner.maxX - lx)
        }
        y += 1
        if !site.staleFeeds.isEmpty {
            Draw.text("Stale feeds: " + site.staleFeeds.map(\.label).joined(separator: ", "), x: inner.x, y: y,
                      width: inner.width, role: .warning, into: &g, theme: theme)
            y += 1
        }

        let metricsRows = max(1, inner.maxY - y)

        // Metric table header.
        let labelW = inner.width >= 70 ? 18 : 14
        let valueW = 8, statusW = 6, levelW = inner.width >= 90 ? 16 : 0, rangeW = inner.width >= 110 ? 15 : 0
        let sparkX = inner.x + labelW + 1 + valueW + 1 + statusW + 1 + 2 + (levelW > 0 ? levelW + 1 : 0)
            + (rangeW > 0 ? rangeW + 1 : 0)
        let sparkW = max(0, inner.maxX - sparkX)
        let hy = y
        g.put("Metric", x: inner.x, y: hy, role: .dim, attributes: [.underline], maxWidth: labelW)
        g.put("Value", x: inner.x + labelW + 1, y: hy, role: .dim, attributes: [.underline], maxWidth: valueW)
        let levelX = sparkX - levelW - 1 - (rangeW > 0 ? rangeW + 1 : 0)
        let rangeX = sparkX - rangeW - 1
        if levelW > 0 { g.put("Thresholds", x: levelX, y: hy, role: .dim, attributes: [.underline]) }
        if rangeW > 0 { g.put("Range shown", x: rangeX, y: hy, role: .dim, attributes: [.underline]) }
        if sparkW > 0, let m = site.metrics.first {
            let span = FlowCore.Duration(millis: m.historyStep.millis * Int64(min(m.history.count, sparkW)))
            Draw.text("History, last \(Format.age(span)) \(gl.unicode ? "→" : "->") now", x: sparkX, y: hy, width: sparkW, role: .dim,
                      attributes: [.underline], into: &g, theme: theme)
        }
        y += 1
        let metrics = site.metrics
        // The rows under the column titles; the view scrolls to keep the selected metric on
        // them, as the site and alert panels do (it counted the titles' row as a metric's, so
        // the last metric, selected, stayed below the box).
        let rows = max(0, metricsRows - 1)
        let top = SiteGridWidget.scrollTop(selected: c.state.detailScroll, count: metrics.count, rows: rows)
        for (i, m) in metrics.enumerated().dropFirst(top).prefix(rows) {
            let ry = y + (i - top)
            let status: Status = m.value == nil ? .unknown : m.status
            let role = StyleRole(status)
            let selected = i == c.state.detailScroll && c.state.focus == .sites
            g.put(selected ? gl.selectedMark : " ", x: inner.x, y: ry, role: selected ? .selected : .normal)
            Draw.text(m.key.label, x: inner.x + 1, y: ry, width: labelW - 1, role: selected ? .selected : .normal, into: &g, theme: theme)
            Draw.text(Format.value(m), x: inner.x + labelW + 1, y: ry, width: valueW, role: role, into: &g, theme: theme, alignRight: true)
            g.put(gl.label(status), x: inner.x + labelW + 1 + valueW + 1, y: ry, role: role, maxWidth: statusW)
            g.put(m.value == nil ? gl.trendUnknown : gl.trend(m.trend), x: inner.x + labelW + valueW + statusW + 3, y: ry, role: .dim, maxWidth: 1)
            if levelW > 0 {
                let lv = Format.levels(warning: m.warningLevel, critical: m.criticalLevel, unit: m.key.unit, unicode: gl.unicode)
                Draw.text(lv.isEmpty ? "no rule" : lv, x: levelX, y: ry, width: levelW, role: .dim, into: &g, theme: theme)
            }
            // The points shown: the history, and the current value as the last point when the
            // history's last sample is older than it; the range spans them and the value, so
            // the value shown never lies outside the range shown.
            let shown = Self.shownSeries(m, now: c.snapshot.now, width: max(1, sparkW))
            if rangeW > 0 {
                let pts = shown.compactMap { $0 } + (m.value.map { [$0] } ?? [])
                if let lo = pts.min(), let hi = pts.max() {
                    let t = lo == hi ? Format.value(lo, unit: m.key.unit)
                        : Format.value(lo, unit: m.key.unit) + (gl.unicode ? "–" : "-") + Format.value(hi, unit: m.key.unit)
                    Draw.text(t, x: rangeX, y: ry, width: rangeW, role: .dim, into: &g, theme: theme)
                } else {
                    Draw.text(Format.missing, x: rangeX, y: ry, width: rangeW, role: .unknown, into: &g, theme: theme)
                }
            }
            if sparkW > 0 {
                let levels = [m.warningLevel, m.criticalLevel].compactMap { $0 }
                let cells = Format.sparkline(shown, width: sparkW, glyphs: gl, levels: levels)
                let pts = shown
                for (k, s) in cells.enumerated() {
                    let pr = Format.thresholdRole(pts[k], warning: m.warningLevel, critical: m.criticalLevel)
                    g.put(s, x: sparkX + k, y: ry, role: pr == .ok ? .dim : pr, maxWidth: 1)
                }
            }
        }
        if metrics.isEmpty {
            Draw.text("No metrics for this unit", x: inner.x, y: y, width: inner.width, role: .dim, into: &g, theme: theme)
        }
        // Scroll markers on the box's right edge, as the other panels have.
        if rows > 0 {
            if top > 0 { g.put(gl.unicode ? "▲" : "^", x: mr.maxX - 1, y: y, role: .dim) }
            if top + rows < metrics.count { g.put(gl.unicode ? "▼" : "v", x: mr.maxX - 1, y: y + rows - 1, role: .dim) }
        }

    }
}

extension DetailWidget {
    /// The last `width` points of a metric's history as its page shows them: with the current
    /// value as the last point when the history's last sample was taken before `now` (a value
    /// that changed since the last sample was otherwise nowhere on the sparkline).
    static func shownSeries(_ m: MetricReading, now: EventTime, width: Int) -> [Double?] {
        guard width > 0 else { return [] }
        if let v = m.value, let end = m.historyEnd, end < now {
            return Array(m.history.suffix(width - 1)) + [v]
        }
        return Array(m.history.suffix(width))
    }
}

// MARK: - Help overlay

/// Generated from `KeyMap.bindings`, the table the dispatcher uses.
enum HelpWidget {
    /// Section titles and bindings of the contexts live now, each binding once, under the first
    /// of its live contexts, in table order.
    static func lines(contexts: Set<KeyContext>) -> [(String, String, Bool)] {
        var out: [(String, String, Bool)] = []
        for ctx in KeyContext.allCases where contexts.contains(ctx) {
            let bs = KeyMap.bindings(in: contexts).filter { b in
                KeyContext.allCases.first(where: { b.contexts.contains($0) && contexts.contains($0) }) == ctx
            }
            guard !bs.isEmpty else { continue }
            out.append((ctx.title, "", true))
            for b in bs { out.append((b.keyLabel, b.help, false)) }
        }
        return out
    }

    /// What the key table cannot say in a few words.
    static func notes(theme: Theme, detail: Bool) -> [String] {
        let gl = theme.glyphs
        var n = ["Space freezes the picture; moving, detail and ack still work.",
                 "a asks who and an optional note: Enter confirms, Esc cancels."]
        if !detail { n.append("OPEL a/d: automated level / declared by the trust (\(gl.differs) differ).") }
        n.append("\(gl.label(.ok))  \(gl.label(.warning))  \(gl.label(.critical))  \(gl.label(.unknown)) missing or stale  \(gl.rising)\(gl.falling)\(gl.flat) trend, last hour")
        return n
    }

    static func draw(contexts: Set<KeyContext>, in area: Rect, into g: inout CellGrid, theme: Theme) {
        let entries = lines(contexts: contexts)
        let w = min(area.width - 2, 96)
        guard w > 10 else { return }
        let notes = notes(theme: theme, detail: contexts.contains(.detail))
        let keyW = min(12, (entries.filter { !$0.2 }.map { TerminalText.width($0.0) }.max() ?? 5) + 1)
        // One column if it fits, else two (the widest overlay is 96 columns). The box's two
        // borders and the blank row before the notes take 3 rows (4 were counted: at 80x24 the
        // status legend, the last note, was left out with a row to spare).
        let spareRows = area.height - 2 - notes.count - 1
        let columns = entries.count <= spareRows ? 1 : 2
        let rows = Int((Double(entries.count) / Double(columns)).rounded(.up))
        let shownNotes = max(0, min(notes.count, area.height - 2 - rows - 1))
        let h = min(area.height, rows + 2 + (shownNotes > 0 ? shownNotes + 1 : 0))
        guard h >= 4 else { return }
        let r = Rect(x: area.x + (area.width - w) / 2, y: area.y + max(0, (area.height - h) / 2), width: w, height: h)
        g.fill(r)
        Draw.box(r, title: "Keys (? or Esc to close)", into: &g, theme: theme)
        let inner = r.inset(by: 1)
        let colW = (inner.width - (columns - 1) * 2) / columns
        for (i, e) in entries.enumerated() {
            let cx = inner.x + (i / rows) * (colW + 2)
            let cy = inner.y + (i % rows)
            guard cy < inner.maxY else { continue }
            if e.2 {
                Draw.text(e.0, x: cx, y: cy, width: colW, role: .title, attributes: [.underline], into: &g, theme: theme)
            } else {
                Draw.text(e.0, x: cx, y: cy, width: keyW, role: .prompt, into: &g, theme: theme)
                Draw.text(e.1, x: cx + keyW + 1, y: cy, width: colW - keyW - 1, into: &g, theme: theme)
            }
        }
        // Short of room, the first notes give way: the status legend, last, is kept longest.
        for (k, n) in notes.suffix(shownNotes).enumerated() {
            Draw.text(n, x: inner.x, y: inner.maxY - shownNotes + k, width: inner.width, role: .dim, into: &g, theme: theme)
        }
    }
}

// MARK: - Acknowledge prompt

enum AckPromptWidget {
    static func draw(_ p: AckPrompt, siteName: String, summary: String? = nil, in area: Rect, into g: inout CellGrid, theme: Theme) {
        let silence = p.purpose == .silence
        let w = min(area.width - 2, 70)
        // Why urgentflow would refuse it, whole: on as many lines as it takes (at most four, the
        // box growing by them as the screen allows). On one line of 68 columns every refusal for
        // patient-identifiable data lost its reason ("...patient-identifiable (value is sha…").
        let problem = p.problem.map { Self.wrap($0, width: w - 2, lines: 4) } ?? []
        let base = silence ? 7 : 6
        let h = min(base + max(0, problem.count - 1), max(base, area.height))
        guard w > 20, area.height >= base else { return }
        let r = Rect(x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h)
        g.fill(r)
        let title = silence ? "Silence notifications of \(p.alert.rule) at \(siteName)" : "Acknowledge \(p.alert.rule) at \(siteName)"
        Draw.box(r, title: title, into: &g, theme: theme)
        let inner = r.inset(by: 1)
        let cursor = theme.glyphs.unicode ? "▏" : "_"
        var y = inner.y
        func field(_ label: String, _ text: String, _ f: AckPrompt.Field) {
            // Long text shows its end, where the typing happens.
            let t = text + (p.field == f ? cursor : "")
            let room = inner.width - label.count
            let shown = TerminalText.width(t) > room ? String(t.suffix(max(0, room))) : t
            Draw.text(label + shown, x: inner.x, y: y, width: inner.width, role: p.field == f ? .prompt : .normal, into: &g, theme: theme)
            y += 1
        }
        field("Who:  ", p.who, .who)
        if silence { field("For:  ", p.duration, .duration) }
        field(silence ? "Why:  " : "Note: ", p.note, .note)
        if !problem.isEmpty {
            for line in problem.prefix(h - base + 1) {
                Draw.text(line, x: inner.x, y: y, width: inner.width, role: .warning, into: &g, theme: theme)
                y += 1
            }
        } else if let summary {
            Draw.text(summary, x: inner.x, y: y, width: inner.width, role: .dim, into: &g, theme: theme)
        }
        Draw.text("Enter next/confirm  Tab switch field  Esc cancel", x: inner.x, y: inner.y + h - 3, width: inner.width,
                  role: .dim, into: &g, theme: theme)
    }

    /// `text` in lines of at most `width` columns, broken at spaces (a word longer than a line
    /// is cut), at most `lines` of them: the last one ends with what is left, clipped when drawn.
    static func wrap(_ text: String, width: Int, lines: Int) -> [String] {
        guard width > 0, lines > 0 else { return [] }
        if lines == 1 { return [text] }
        let words = text.split(separator: " ")
        var out: [String] = []
        var line = ""
        for (k, word) in words.enumerated() {
            let candidate = line.isEmpty ? String(word) : line + " " + word
            if line.isEmpty || TerminalText.width(candidate) <= width { line = candidate; continue }
            out.append(line)
            if out.count == lines - 1 { return out + [words[k...].joined(separator: " ")] }
            line = String(word)
        }
        if !line.isEmpty { out.append(line) }
        return out
    }
}

// MARK: - Status line

enum StatusLineWidget {
    static func draw(_ c: DashboardController, in r: Rect, into g: inout CellGrid, theme: Theme) {
        guard r.height > 0 else { return }
        let s = c.state
        var x = r.x
        if s.editingFilter {
            x += g.put("Filter: /", x: x, y: r.y, role: .prompt)
            x += g.put(s.filter + (theme.glyphs.unicode ? "▏" : "_"), x: x, y: r.y, role: .filter, maxWidth: r.maxX - x)
            g.put("  Enter keep  Esc clear", x: x, y: r.y, role: .dim, maxWidth: r.maxX - x)
            return
        }
        if !s.filter.isEmpty {
            // The dashboard's counts, on a site page too (whose list is the site's every alert:
            // it said "0 sites, 6 alerts" there, where the dashboard had said 2).
            let ns = c.visibleSites.count, na = c.filteredAlerts.count
            let page = s.detailSite != nil ? "; this page shows all the site's" : ""
            let t = "[filter: \(s.filter)  \(ns) site\(ns == 1 ? "" : "s"), \(na) alert\(na == 1 ? "" : "s")\(page)] "
            x += Draw.text(t, x: x, y: r.y, width: r.width, role: .filter, into: &g, theme: theme)
        }
        if var m = s.message {
            if s.messageIsSpeed, let speed = c.snapshot.replay?.speed {
                m = "speed " + Format.speed(speed, unicode: theme.glyphs.unicode)
            }
            Draw.text(m, x: x, y: r.y, width: r.maxX - x, role: .prompt, into: &g, theme: theme)
            return
        }
        // Hints come from the key table too. Where every hint fits, silence and the replay's
        // jumps are among them (at 120 columns, one space apart and in shorter words; at 120 they
        // were left out with room to spare); else the hints as before, as many as fit.
        let room = r.maxX - x
        var hints = Self.hints(c, extras: false, short: false)
        var gap = "  "
        if r.width >= 120 {
            for (short, g) in [(false, "  "), (false, " "), (true, " ")] {
                let all = Self.hints(c, extras: true, short: short)
                if Self.width(all, gap: g) <= room { hints = all; gap = g; break }
            }
        }
        var hx = x
        for h in hints {
            let w = TerminalText.width(h)
            if hx + w > r.maxX { break }
            let parts = h.split(separator: " ", maxSplits: 1).map(String.init)
            hx += g.put(parts[0], x: hx, y: r.y, role: .prompt)
            hx += g.put(" " + (parts.count > 1 ? parts[1] : "") + gap, x: hx, y: r.y, role: .dim, maxWidth: r.maxX - hx)
        }
    }

    /// The width of `hints` drawn `gap` apart.
    static func width(_ hints: [String], gap: String) -> Int {
        hints.reduce(0) { $0 + TerminalText.width($1) } + max(0, hints.count - 1) * TerminalText.width(gap)
    }

    /// The status line's key hints (`? help`, `jk move` ...), from the key table, for the keys
    /// live now. `extras`: with `s silence` (always with the alerts in focus), `[] hour` and
    /// `{ start` (a replay's); `short`:
    /// in shorter words (`n next`, `[] 1h`).
    static func hints(_ c: DashboardController, extras: Bool, short: Bool) -> [String] {
        let s = c.state
        var hints: [String] = []
        var wanted: [UIAction] = [.help, .quit, .moveDown, .switchFocus, .openDetail, .back, .acknowledge]
        // With the alerts in focus, `s` silences the one selected: said beside `a ack` at every
        // width (below 120 columns it was left out there, with room to spare; ops user test).
        if extras || s.focus == .alerts { wanted.append(.silence) }
        wanted += [.filter, .togglePause, .faster, .stepEvent, .nextAlertTransition]
        if extras { wanted += [.jumpBack, .rewindToStart] }
        let ctx = c.activeContexts
        for a in wanted {
            if a == .back, c.state.detailSite == nil, s.filter.isEmpty { continue }
            guard let b = KeyMap.bindings.first(where: { $0.action == a && !$0.contexts.isDisjoint(with: ctx) }),
                  let k = b.keys.first else { continue }
            let word: String
            switch a {
            case .help: word = "help"
            case .moveDown: word = "move"
            case .switchFocus: word = "focus"
            case .openDetail: word = "detail"
            case .back: word = c.state.detailSite != nil ? "back" : "clear filter"
            case .acknowledge: word = "ack"
            case .silence: word = "silence"
            case .filter: word = "filter"
            case .togglePause: word = s.paused ? "resume" : "pause"
            case .faster: word = "speed"
            case .stepEvent: word = "step"
            case .nextAlertTransition: word = short ? "next" : "next alert"
            case .jumpBack: word = short ? "1h" : "hour"
            case .rewindToStart: word = "start"
            case .quit: word = "quit"
            default: word = a.rawValue
            }
            let keyText: String
            switch a {
            case .moveDown: keyText = "jk"
            case .faster: keyText = "+-"
            case .jumpBack: keyText = "[]"
            default: keyText = k.label
            }
            hints.append("\(keyText) \(word)")
        }
        return hints
    }
}
