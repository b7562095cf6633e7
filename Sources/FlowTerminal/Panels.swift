import FlowCore

// MARK: - Alert panel

/// Active alerts by severity: site, rule, value, how long, who was warned, who acknowledged.
enum AlertPanelWidget {
    static func draw(_ c: DashboardController, alerts: [AlertSnapshot], title: String, in r: Rect,
                     into g: inout CellGrid, theme: Theme) {
        Draw.box(r, title: title, into: &g, theme: theme, focused: c.state.focus == .alerts)
        let inner = r.inset(by: 1)
        guard inner.height > 0, inner.width > 4 else { return }
        if alerts.isEmpty {
            Draw.text(c.state.filter.isEmpty || c.state.detailSite != nil ? "No active alerts" : "No alert matches the filter",
                      x: inner.x, y: inner.y, width: inner.width, role: .dim, into: &g, theme: theme)
            return
        }
        let sel = c.selectedAlertIndex ?? 0
        let top = SiteGridWidget.scrollTop(selected: sel, count: alerts.count, rows: inner.height)
        let names = Dictionary(c.snapshot.sites.map { ($0.code, $0.name) }, uniquingKeysWith: { a, _ in a })
        for (i, a) in alerts.enumerated().dropFirst(top).prefix(inner.height) {
            let y = inner.y + (i - top)
            drawRow(a, siteName: names[a.site] ?? a.site, now: c.snapshot.now, x: inner.x, y: y, width: inner.width,
                    selected: i == sel && c.state.focus == .alerts, into: &g, theme: theme)
        }
        if top > 0 { g.put(theme.glyphs.unicode ? "▲" : "^", x: r.maxX - 1, y: inner.y, role: .dim) }
        if top + inner.height < alerts.count {
            g.put(theme.glyphs.unicode ? "▼" : "v", x: r.maxX - 1, y: inner.maxY - 1, role: .dim)
        }
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

    static func drawRow(_ a: AlertSnapshot, siteName: String, now: EventTime, x: Int, y: Int, width: Int,
                        selected: Bool, into g: inout CellGrid, theme: Theme) {
        let gl = theme.glyphs
        var cx = x
        let end = x + width
        func col(_ text: String, _ w: Int, _ role: StyleRole, right: Bool = false) {
            guard cx < end else { return }
            let ww = min(w, end - cx)
            Draw.text(text, x: cx, y: y, width: ww, role: role, into: &g, theme: theme, alignRight: right)
            cx += w + 1
        }
        g.put(selected ? gl.selectedMark : " ", x: cx, y: y, role: selected ? .selected : .normal)
        cx += 1
        let (label, role) = stateLabel(a, glyphs: gl)
        col(label, 6, role)
        let wide = width >= 110
        let medium = width >= 76
        col(siteName, wide ? 22 : (medium ? 15 : 11), selected ? .selected : .normal)
        col(a.rule, wide ? 24 : (medium ? 15 : 11), .normal)
        col(a.value.map { Format.number($0, decimals: 1) } ?? Format.missing, 6, a.value == nil ? .unknown : role, right: true)
        col(Format.age(now - a.since), 5, .dim, right: true)
        if medium {
            col("to " + (a.leadName ?? a.leadID ?? Format.missing), width >= 150 ? 26 : (wide ? 18 : 10), a.leadName == nil && a.leadID == nil ? .unknown : .normal)
        }
        let ack: String
        if let by = a.acknowledgedBy {
            ack = gl.acked + " ack " + by + (wide ? (a.acknowledgedAt.map { " " + Format.age(now - $0) + " ago" } ?? "") : "")
        } else {
            ack = medium ? "not acked" : "unacked"
        }
        col(ack, wide ? 26 : 14, a.acknowledgedBy == nil ? .warning : .ok)
        if wide, cx < end {
            var rest = a.summary
            if let n = a.ackNote, !n.isEmpty { rest += " | note: " + n }
            col(rest, end - cx, .normal)
        }
    }
}

// MARK: - Site detail

/// Every metric with its history over the last hours, thresholds marked, and the site's alerts.
enum DetailWidget {
    static func draw(_ c: DashboardController, site: SiteSnapshot, in r: Rect, into g: inout CellGrid, theme: Theme) {
        let gl = theme.glyphs
        // The metrics box takes what its rows need; the site's alerts get the rest (at least 3 rows).
        let alerts = c.visibleAlerts
        let metricsWant = site.metrics.count + 4 + (site.staleFeeds.isEmpty ? 0 : 1)
        let alertsMin = alerts.isEmpty ? 3 : min(alerts.count + 2, 5)
        let metricsH = max(5, min(metricsWant, r.height - alertsMin))
        let mr = Rect(x: r.x, y: r.y, width: r.width, height: min(metricsH, r.height))
        let ar = Rect(x: r.x, y: mr.maxY, width: r.width, height: r.maxY - mr.maxY)
        Draw.box(mr, title: "\(site.name) (\(site.code))", into: &g, theme: theme, focused: c.state.focus == .sites)
        if ar.height >= 3 {
            AlertPanelWidget.draw(c, alerts: alerts, title: "Alerts at \(site.name) \(alerts.count)", in: ar, into: &g, theme: theme)
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
        let differs = site.declaredOpel != nil && site.declaredOpel != site.opelLevel
        x += g.put(opel, x: x, y: y, role: site.opelLevel == nil ? .unknown : .normal, maxWidth: inner.maxX - x)
        if differs { g.put(" " + gl.differs + " differ", x: x, y: y, role: .warning, maxWidth: inner.maxX - x) }
        y += 1
        if !site.staleFeeds.isEmpty {
            Draw.text("Stale feeds: " + site.staleFeeds.map(\.label).joined(separator: ", "), x: inner.x, y: y,
                      width: inner.width, role: .warning, into: &g, theme: theme)
            y += 1
        }

        let metricsRows = max(1, inner.maxY - y)

        // Metric table header.
        let labelW = min(18, max(10, inner.width / 5))
        let valueW = 8, statusW = 6, levelW = inner.width >= 90 ? 16 : 0
        let sparkX = inner.x + labelW + 1 + valueW + 1 + statusW + 1 + 2 + (levelW > 0 ? levelW + 1 : 0)
        let sparkW = max(0, inner.maxX - sparkX)
        let hy = y
        g.put("Metric", x: inner.x, y: hy, role: .dim, attributes: [.underline], maxWidth: labelW)
        g.put("Value", x: inner.x + labelW + 1, y: hy, role: .dim, attributes: [.underline], maxWidth: valueW)
        if levelW > 0 { g.put("Thresholds", x: sparkX - levelW - 1, y: hy, role: .dim, attributes: [.underline]) }
        if sparkW > 0, let m = site.metrics.first {
            let span = FlowCore.Duration(millis: m.historyStep.millis * Int64(min(m.history.count, sparkW)))
            Draw.text("History (last \(Format.age(span)))", x: sparkX, y: hy, width: sparkW, role: .dim,
                      attributes: [.underline], into: &g, theme: theme)
        }
        y += 1
        let metrics = site.metrics
        let top = min(c.state.detailScroll, max(0, metrics.count - metricsRows))
        for (i, m) in metrics.enumerated().dropFirst(top).prefix(max(0, metricsRows - 1)) {
            let ry = y + (i - top)
            let status: Status = m.value == nil ? .unknown : m.status
            let role = StyleRole(status)
            let selected = i == c.state.detailScroll && c.state.focus == .sites
            Draw.text(m.key.label, x: inner.x, y: ry, width: labelW, role: selected ? .selected : .normal, into: &g, theme: theme)
            Draw.text(Format.value(m), x: inner.x + labelW + 1, y: ry, width: valueW, role: role, into: &g, theme: theme, alignRight: true)
            g.put(gl.label(status), x: inner.x + labelW + 1 + valueW + 1, y: ry, role: role, maxWidth: statusW)
            g.put(m.value == nil ? gl.trendUnknown : gl.trend(m.trend), x: inner.x + labelW + valueW + statusW + 3, y: ry, role: .dim, maxWidth: 1)
            if levelW > 0 {
                let lv = Format.levels(warning: m.warningLevel, critical: m.criticalLevel, unit: m.key.unit, unicode: gl.unicode)
                Draw.text(lv.isEmpty ? "no rule" : lv, x: sparkX - levelW - 1, y: ry, width: levelW, role: .dim, into: &g, theme: theme)
            }
            if sparkW > 0 {
                let levels = [m.warningLevel, m.criticalLevel].compactMap { $0 }
                let cells = Format.sparkline(m.history, width: sparkW, glyphs: gl, levels: levels)
                let pts = Array(m.history.suffix(sparkW))
                for (k, s) in cells.enumerated() {
                    let pr = Format.thresholdRole(pts[k], warning: m.warningLevel, critical: m.criticalLevel)
                    g.put(s, x: sparkX + k, y: ry, role: pr == .ok ? .dim : pr, maxWidth: 1)
                }
            }
        }
        if metrics.isEmpty {
            Draw.text("No metrics for this unit", x: inner.x, y: y, width: inner.width, role: .dim, into: &g, theme: theme)
        }

    }
}

// MARK: - Help overlay

/// Generated from `KeyMap.bindings`, the table the dispatcher uses.
enum HelpWidget {
    static func lines(contexts: Set<KeyContext>) -> [(String, String, Bool)] {
        var out: [(String, String, Bool)] = []
        for ctx in KeyContext.allCases {
            // Each binding once, under the first of its contexts.
            let bs = KeyMap.bindings.filter { b in KeyContext.allCases.first(where: { b.contexts.contains($0) }) == ctx }
            guard !bs.isEmpty else { continue }
            out.append((ctx.title + (ctx == .replay && !contexts.contains(.replay) ? " (not in live mode)" : ""), "", true))
            for b in bs { out.append((b.keyLabel, b.help, false)) }
        }
        return out
    }

    static func draw(contexts: Set<KeyContext>, in area: Rect, into g: inout CellGrid, theme: Theme) {
        let entries = lines(contexts: contexts)
        let w = min(area.width - 2, 96)
        let maxRows = area.height - 4
        guard w > 10, maxRows > 2 else { return }
        let columns = max(1, Int((Double(entries.count) / Double(maxRows)).rounded(.up)))
        let rows = Int((Double(entries.count) / Double(columns)).rounded(.up))
        let h = rows + 3
        let r = Rect(x: area.x + (area.width - w) / 2, y: area.y + max(0, (area.height - h) / 2), width: w, height: h)
        g.fill(r)
        Draw.box(r, title: "Keys (? or Esc to close)", into: &g, theme: theme)
        let inner = r.inset(by: 1)
        let colW = (inner.width - (columns - 1)) / columns
        let keyW = min(13, max(5, colW / 3))
        for (i, e) in entries.enumerated() {
            let cx = inner.x + (i / rows) * (colW + 1)
            let cy = inner.y + (i % rows)
            if e.2 {
                Draw.text(e.0, x: cx, y: cy, width: colW, role: .title, attributes: [.underline], into: &g, theme: theme)
            } else {
                Draw.text(e.0, x: cx, y: cy, width: keyW, role: .prompt, into: &g, theme: theme)
                Draw.text(e.1, x: cx + keyW + 1, y: cy, width: colW - keyW - 1, into: &g, theme: theme)
            }
        }
        Draw.text("Status is shown by glyph and word: \(theme.glyphs.label(.ok))  \(theme.glyphs.label(.warning))  \(theme.glyphs.label(.critical))  \(theme.glyphs.label(.unknown)) missing",
                  x: inner.x, y: inner.maxY - 1, width: inner.width, role: .dim, into: &g, theme: theme)
    }
}

// MARK: - Acknowledge prompt

enum AckPromptWidget {
    static func draw(_ p: AckPrompt, siteName: String, in area: Rect, into g: inout CellGrid, theme: Theme) {
        let w = min(area.width - 2, 70)
        let h = 6
        guard w > 20, area.height >= h else { return }
        let r = Rect(x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h)
        g.fill(r)
        Draw.box(r, title: "Acknowledge \(p.alert.rule) at \(siteName)", into: &g, theme: theme)
        let inner = r.inset(by: 1)
        let cursor = theme.glyphs.unicode ? "▏" : "_"
        Draw.text("Who:  " + p.who + (p.field == .who ? cursor : ""), x: inner.x, y: inner.y, width: inner.width,
                  role: p.field == .who ? .prompt : .normal, into: &g, theme: theme)
        // Long notes show their end, where the typing happens.
        let noteText = p.note + (p.field == .note ? cursor : "")
        let room = inner.width - 6
        let shown = TerminalText.width(noteText) > room ? String(noteText.suffix(max(0, room))) : noteText
        Draw.text("Note: " + shown, x: inner.x, y: inner.y + 1, width: inner.width,
                  role: p.field == .note ? .prompt : .normal, into: &g, theme: theme)
        Draw.text("Enter next/confirm  Tab switch field  Esc cancel", x: inner.x, y: inner.y + 3, width: inner.width,
                  role: .dim, into: &g, theme: theme)
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
            let t = "[filter: \(s.filter)  \(c.visibleSites.count) sites, \(c.visibleAlerts.count) alerts  Esc clears] "
            x += Draw.text(t, x: x, y: r.y, width: r.width, role: .filter, into: &g, theme: theme)
        }
        if let m = s.message {
            Draw.text(m, x: x, y: r.y, width: r.maxX - x, role: .prompt, into: &g, theme: theme)
            return
        }
        // Hints come from the key table too.
        var hints: [String] = []
        let wanted: [UIAction] = [.help, .quit, .moveDown, .switchFocus, .openDetail, .back, .acknowledge, .filter, .togglePause,
                                  .faster, .stepEvent, .nextAlertTransition]
        let ctx = c.activeContexts
        for a in wanted {
            guard let b = KeyMap.bindings.first(where: { $0.action == a && !$0.contexts.isDisjoint(with: ctx) }),
                  let k = b.keys.first else { continue }
            let word: String
            switch a {
            case .help: word = "help"
            case .moveDown: word = "move"
            case .switchFocus: word = "focus"
            case .openDetail: word = "detail"
            case .back: word = c.state.detailSite != nil ? "back" : "clear"
            case .acknowledge: word = "ack"
            case .filter: word = "filter"
            case .togglePause: word = s.paused ? "resume" : "pause"
            case .faster: word = "speed"
            case .stepEvent: word = "step"
            case .nextAlertTransition: word = "next alert"
            case .quit: word = "quit"
            default: word = a.rawValue
            }
            let keyText = a == .moveDown ? "jk" : (a == .faster ? "+-" : k.label)
            hints.append("\(keyText) \(word)")
        }
        var hx = x
        for h in hints {
            let w = TerminalText.width(h)
            if hx + w > r.maxX { break }
            let parts = h.split(separator: " ", maxSplits: 1).map(String.init)
            hx += g.put(parts[0], x: hx, y: r.y, role: .prompt)
            hx += g.put(" " + (parts.count > 1 ? parts[1] : "") + "  ", x: hx, y: r.y, role: .dim, maxWidth: r.maxX - hx)
        }
    }
}
