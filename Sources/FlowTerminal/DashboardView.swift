import FlowCore

/// Screen layout by breakpoints. Everything is drawn into a `CellGrid`.
///
/// - below `minimumWidth` x `minimumHeight`: a "needs at least WxH" message;
/// - width < 80: site name, status, OPEL and three metric columns, arrows only;
/// - 80-119: six metric columns; 120-199: eight, with sparklines; 200+: ten, more sparklines;
/// - the alert panel gets what the site grid leaves, at least 3 rows.
public enum DashboardView {
    public static let minimumWidth = 60
    public static let minimumHeight = 16

    public static func render(_ c: DashboardController, into g: inout CellGrid, theme: Theme) {
        g.clear()
        let w = g.width, h = g.height
        guard w >= minimumWidth, h >= minimumHeight else {
            drawTooSmall(into: &g, theme: theme)
            return
        }
        let snap = c.snapshot
        HeaderWidget.draw(snap, paused: c.state.paused, in: Rect(x: 0, y: 0, width: w, height: 2), into: &g, theme: theme)
        let body = Rect(x: 0, y: 2, width: w, height: h - 3)
        StatusLineWidget.draw(c, in: Rect(x: 0, y: h - 1, width: w, height: 1), into: &g, theme: theme)

        if let code = c.state.detailSite, let site = snap.sites.first(where: { $0.code == code }) {
            DetailWidget.draw(c, site: site, in: body, into: &g, theme: theme)
        } else {
            let (sitesRect, alertsRect) = split(body, sites: c.visibleSites.count, alerts: c.visibleAlerts.count)
            SiteGridWidget.draw(c, in: sitesRect, into: &g, theme: theme)
            let alerts = c.visibleAlerts
            var title = "Alerts \(alerts.count)"
            // urgentflow's own notifier alerts are nobody's to acknowledge: not counted.
            let unacked = alerts.filter { $0.acknowledgedBy == nil && $0.state == .firing && $0.notifier == nil }.count
            if unacked > 0 { title += " (\(unacked) not acked)" }
            // A filter that hides alerts is said on the panel itself (the status line gives way
            // to messages): a lead could read "Alerts 0" as no alerts at all.
            var filterNote: (filter: String, hidden: String)?
            if !c.state.filter.isEmpty {
                let hidden = c.orderedAlerts.count - alerts.count
                filterNote = AlertPanelWidget.filterNote(filter: c.state.filter, hidden: hidden)
            }
            AlertPanelWidget.draw(c, alerts: alerts, title: title, filterNote: filterNote, in: alertsRect, into: &g, theme: theme)
        }
        if c.state.showHelp {
            HelpWidget.draw(contexts: c.activeContexts, in: body, into: &g, theme: theme)
        }
        if let p = c.state.ack {
            let name = snap.sites.first { $0.code == p.alert.site }?.name ?? p.alert.site
            let summary = snap.alerts.first { AlertID($0) == p.alert }
                .map { Format.alertText($0.summary, siteName: name, systemName: snap.systemName, unicode: theme.glyphs.unicode) }
            AckPromptWidget.draw(p, siteName: name, summary: summary, in: body, into: &g, theme: theme)
        }
    }

    /// Splits the body between the site grid and the alert panel.
    static func split(_ body: Rect, sites: Int, alerts: Int) -> (Rect, Rect) {
        let alertMin = 3 + min(2, max(0, alerts - 1))
        let sitesWant = max(4, sites + 3)
        let alertsWant = max(3, alerts + 2)
        var sitesH = min(sitesWant, body.height - alertMin)
        // Give leftover rows to alerts, but never starve the sites below 60% when both overflow.
        if sitesH + alertsWant < body.height { sitesH = min(sitesWant, body.height - alertsWant) }
        if sitesH < sitesWant { sitesH = max(sitesH, min(sitesWant, body.height * 3 / 5)) }
        sitesH = min(sitesH, body.height - 3)
        let s = Rect(x: body.x, y: body.y, width: body.width, height: sitesH)
        let a = Rect(x: body.x, y: body.y + sitesH, width: body.width, height: body.height - sitesH)
        return (s, a)
    }

    /// The longest wording that fits: clipped, "needs at least 60x16" read "60x1" on a terminal
    /// 30 wide.
    static func drawTooSmall(into g: inout CellGrid, theme: Theme) {
        let need = "\(minimumWidth)x\(minimumHeight)", have = "\(g.width)x\(g.height)"
        let msg = ["urgentflow needs at least " + need, "needs at least " + need, "needs " + need, need]
        let now = ["terminal is " + have, "now " + have, have]
        let y = max(0, g.height / 2 - 1)
        for (i, wordings) in [msg, now].enumerated() {
            let t = wordings.first { TerminalText.width($0) <= g.width } ?? wordings.last!
            let clipped = TerminalText.clip(t, to: g.width)
            let x = max(0, (g.width - TerminalText.width(clipped)) / 2)
            g.put(clipped, x: x, y: y + i, role: i == 0 ? .warning : .dim)
        }
    }
}
