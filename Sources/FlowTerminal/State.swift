import FlowCore

/// Which list the selection keys move in.
public enum Focus: Sendable, Equatable {
    case sites
    case alerts
}

/// Identity of an active alert: one per rule and site, and for urgentflow's own
/// `notifier_failing` alerts (all at site SYSTEM) one per notifier.
public struct AlertID: Hashable, Sendable {
    public var rule: String
    public var site: String
    /// The failing notifier of urgentflow's own alert (`AlertSnapshot.notifier`); nil otherwise.
    public var notifier: String?
    public init(rule: String, site: String, notifier: String? = nil) { self.rule = rule; self.site = site; self.notifier = notifier }
    public init(_ a: AlertSnapshot) { self.init(rule: a.rule, site: a.site, notifier: a.notifier) }
}

/// The operator prompt: acknowledge (`a`: who, an optional note) or silence (`s`: who, for how
/// long, why).
public struct AckPrompt: Sendable, Equatable {
    public enum Purpose: Sendable, Equatable { case acknowledge, silence }
    public enum Field: Sendable, Equatable { case who, duration, note }
    public var alert: AlertID
    public var purpose: Purpose
    public var who: String = ""
    /// Silence only: how long (`30m`, `2h`, up to `7d`).
    public var duration: String = "2h"
    /// Acknowledge: the note; silence: the reason (required).
    public var note: String = ""
    public var field: Field = .who
    /// Why what was typed cannot be sent (`OperatorAction.refusal`), shown in the prompt until
    /// the next key changes a field.
    public var problem: String?
    public init(alert: AlertID, purpose: Purpose = .acknowledge) {
        self.alert = alert
        self.purpose = purpose
    }

    /// The fields in the order Enter and Tab visit them.
    public var fields: [Field] { purpose == .silence ? [.who, .duration, .note] : [.who, .note] }
}

/// Everything the UI remembers between frames. Selections are kept by identity, so they stay on
/// the same site or alert when a new snapshot reorders the lists.
public struct UIState: Sendable, Equatable {
    public var focus: Focus = .sites
    public var selectedSite: String?
    public var selectedAlert: AlertID?
    /// Site code shown in the detail view, nil on the dashboard.
    public var detailSite: String?
    public var detailScroll: Int = 0
    /// The alert selected was chosen there (moved to, or opened), not only kept since the first
    /// snapshot: until then focus moving to the alerts starts on the top row.
    public var alertChosen = false
    public var filter: String = ""
    public var editingFilter = false
    public var showHelp = false
    public var paused = false
    public var ack: AckPrompt?
    /// One-line feedback on the status line.
    public var message: String? { didSet { messageIsSpeed = false } }
    /// The message is the replay's speed after `+`/`-`: the status line writes the speed as the
    /// header does, in the same frame's glyphs (`speed ×600`); the driver's words said `x600`
    /// beside the header's `×600`. Any new message clears it.
    public var messageIsSpeed = false
    public var quit = false
    public init() {}
}

/// The pure heart of the dashboard: holds the state and the displayed snapshot, turns keys into
/// state changes and driver commands, and renders into a grid. No terminal I/O here, so it is
/// tested with a fake driver and a `CellGrid`.
public final class DashboardController {
    public private(set) var state = UIState()
    /// What is on screen. Frozen while paused.
    public private(set) var snapshot: DashboardSnapshot {
        didSet { orderedAlerts = AlertPanelWidget.displayOrder(snapshot.alerts) }
    }
    /// The snapshot's alerts in display order (raised before pending, most severe, not
    /// acknowledged before acknowledged, oldest).
    public private(set) var orderedAlerts: [AlertSnapshot]
    public let driver: DashboardDriver

    public init(driver: DashboardDriver) {
        self.driver = driver
        let first = driver.snapshot()
        self.snapshot = first
        self.orderedAlerts = AlertPanelWidget.displayOrder(first.alerts)
        self.state.paused = snapshot.replay?.paused ?? false
        normaliseSelection()
    }

    var isReplay: Bool { snapshot.replay != nil }

    /// Lets the driver advance; takes the new snapshot unless paused. Returns true when the
    /// screen must be redrawn.
    @discardableResult
    public func tick() -> Bool {
        let changed = driver.advance()
        // The late answer to an acknowledgement (applied, or refused and why) replaces its
        // "waiting" on the status line, paused or not.
        let late = driver.lateMessage()
        if let late { state.message = late }
        guard changed, !state.paused else { return late != nil }
        refresh()
        return true
    }

    private func refresh() {
        snapshot = driver.snapshot()
        normaliseSelection()
    }

    // MARK: lists as shown (filtered)

    /// What a filter that is one of the status words the screen shows (the State and Status
    /// columns: `ok`, `warn`, `crit`, `n/a`, `pend`; any case) asks for: rows by their status,
    /// not by their text (`crit` matched a WARN row whose summary said `(crit ≥10)`, left out
    /// `✖ CRIT` rows whose summary did not say it, and no site). nil for any other filter.
    public enum StatusFilter: Equatable, Sendable {
        case status(Status)
        case pending
    }

    public static func statusFilter(_ filter: String) -> StatusFilter? {
        switch filter.trimmingCharacters().lowercased() {
        case GlyphSet.word(.ok).lowercased(): return .status(.ok)
        case GlyphSet.word(.warning).lowercased(): return .status(.warning)
        case GlyphSet.word(.critical).lowercased(): return .status(.critical)
        case GlyphSet.word(.unknown).lowercased(): return .status(.unknown)
        case "pend": return .pending
        default: return nil
        }
    }

    /// Does the alert's State column say `f`'s word (`AlertPanelWidget.stateLabel`)?
    static func matches(_ a: AlertSnapshot, _ f: StatusFilter) -> Bool {
        switch f {
        case .pending: return a.state == .pending
        case .status(.unknown): return a.state == .unknown
        case .status(let s): return a.state == .firing && Status(a.severity) == s
        }
    }

    public var visibleSites: [SiteSnapshot] {
        let f = state.filter.lowercased()
        guard !f.isEmpty else { return snapshot.sites }
        if let status = Self.statusFilter(f) {
            return snapshot.sites.filter { status == .status($0.status) }
        }
        return snapshot.sites.filter {
            $0.name.lowercased().contains(f) || $0.code.lowercased().contains(f)
                || Format.unitKind($0.kind).lowercased().contains(f)
        }
    }

    /// The alerts shown: a site page's every alert of its site (the page is the site's whole
    /// picture: the filter is not applied there), else those the filter matches.
    public var visibleAlerts: [AlertSnapshot] {
        if let d = state.detailSite { return orderedAlerts.filter { $0.site == d } }
        return filteredAlerts
    }

    /// The dashboard's alerts the filter matches (all without one), on a site page too: what
    /// the status line counts, as the dashboard shows them.
    public var filteredAlerts: [AlertSnapshot] {
        let list = orderedAlerts
        let f = state.filter.lowercased()
        guard !f.isEmpty else { return list }
        if let status = Self.statusFilter(f) { return list.filter { Self.matches($0, status) } }
        let names = Dictionary(snapshot.sites.map { ($0.code, $0.name.lowercased()) }, uniquingKeysWith: { a, _ in a })
        return list.filter {
            $0.site.lowercased().contains(f) || $0.rule.lowercased().contains(f)
                || $0.summary.lowercased().contains(f) || (names[$0.site]?.contains(f) ?? false)
        }
    }

    public var selectedSiteIndex: Int? {
        guard let s = state.selectedSite else { return nil }
        return visibleSites.firstIndex { $0.code == s }
    }

    public var selectedAlertIndex: Int? {
        guard let a = state.selectedAlert else { return nil }
        return visibleAlerts.firstIndex { AlertID($0) == a }
    }

    private func normaliseSelection() {
        let sites = visibleSites
        if state.selectedSite == nil || !sites.contains(where: { $0.code == state.selectedSite }) {
            state.selectedSite = sites.first?.code
        }
        let alerts = visibleAlerts
        if state.selectedAlert == nil || !alerts.contains(where: { AlertID($0) == state.selectedAlert }) {
            state.selectedAlert = alerts.first.map(AlertID.init)
        }
    }

    /// Contexts whose bindings are live now.
    public var activeContexts: Set<KeyContext> {
        var c: Set<KeyContext> = [.global]
        c.insert(state.detailSite == nil ? .dashboard : .detail)
        if isReplay { c.insert(.replay) }
        return c
    }

    // MARK: keys

    public enum Outcome: Equatable, Sendable {
        case ignored
        case redraw
        case quit
    }

    @discardableResult
    public func handle(_ key: Key) -> Outcome {
        if key == .resize { return .redraw }
        if state.ack != nil { return handlePrompt(key) }
        if state.editingFilter { return handleFilterInput(key) }
        if state.showHelp {
            switch key {
            case .char("?"), .escape: state.showHelp = false; return .redraw
            case .char("q"): state.quit = true; return .quit
            default: return .ignored
            }
        }
        guard let action = KeyMap.action(for: key, in: activeContexts) else { return .ignored }
        state.message = nil
        return perform(action)
    }

    private func perform(_ action: UIAction) -> Outcome {
        switch action {
        case .quit:
            state.quit = true
            return .quit
        case .help:
            state.showHelp.toggle()
        case .moveUp: move(-1)
        case .moveDown: move(1)
        case .pageUp: move(-10)
        case .pageDown: move(10)
        case .top: move(-Int.max / 2)
        case .bottom: move(Int.max / 2)
        case .moveLeft, .moveRight:
            let d = action == .moveLeft ? -1 : 1
            if let code = state.detailSite {
                // Previous / next site in the detail view.
                let sites = visibleSites
                if let i = sites.firstIndex(where: { $0.code == code }), !sites.isEmpty {
                    let j = min(sites.count - 1, max(0, i + d))
                    state.detailSite = sites[j].code
                    state.selectedSite = sites[j].code
                    state.detailScroll = 0
                    state.selectedAlert = visibleAlerts.first.map(AlertID.init)
                }
            } else {
                focus(d < 0 ? .sites : .alerts)
            }
        case .switchFocus:
            focus(state.focus == .sites ? .alerts : .sites)
        case .openDetail:
            if state.focus == .alerts, let n = state.selectedAlert?.notifier {
                // urgentflow's own alert: no site to show (SYSTEM has no figures), so say where
                // its detail is instead of opening an empty page.
                state.message = "urgentflow's own alert: deliveries to \(n) keep failing (urgentflow.log says why); it clears when one succeeds"
            } else if state.focus == .alerts, let a = state.selectedAlert {
                state.selectedSite = a.site
                state.detailSite = a.site
            } else if let s = state.selectedSite {
                state.detailSite = s
                state.focus = .sites
            } else {
                return .ignored
            }
            state.detailScroll = 0
            normaliseSelection()
        case .back:
            if state.detailSite != nil {
                state.detailSite = nil
                normaliseSelection()
            } else if !state.filter.isEmpty {
                state.filter = ""
                normaliseSelection()
            } else {
                return .ignored
            }
        case .acknowledge:
            guard let id = alertToAcknowledge() else {
                state.message = "No alert selected to acknowledge"
                return .redraw
            }
            if let n = id.notifier {
                state.message = Self.ownAlertMessage(notifier: n, doing: "acknowledge")
                return .redraw
            }
            if snapshot.alerts.contains(where: { AlertID($0) == id && $0.state == .pending }) {
                // The engine refuses it: no lead has been told yet. Silencing it is allowed.
                state.message = FlowEngine.pendingAckRefusal(rule: id.rule, site: id.site) + " (s silences it)"
                return .redraw
            }
            state.ack = AckPrompt(alert: id)
        case .silence:
            guard let id = alertToAcknowledge() else {
                state.message = "No alert selected to silence"
                return .redraw
            }
            if let n = id.notifier {
                state.message = Self.ownAlertMessage(notifier: n, doing: "silence")
                return .redraw
            }
            state.ack = AckPrompt(alert: id, purpose: .silence)
        case .filter:
            state.editingFilter = true
        case .togglePause:
            state.paused.toggle()
            driver.perform(.setPaused(state.paused))
            if !state.paused { refresh() } else if isReplay { refreshKeepingData() }
        case .faster, .slower, .stepEvent, .nextAlertTransition, .jumpBack, .jumpAhead, .rewindToStart:
            if let c = action.replayCommand { command(c) }
            if action == .faster || action == .slower, snapshot.replay != nil {
                state.message = state.message ?? "speed"
                state.messageIsSpeed = true
            }
            if action == .stepEvent, state.message == nil { state.message = "Stepped one event: \(snapshot.localClock)" }
        }
        return .redraw
    }

    /// Moves the focus. The first time it goes to the alerts (none chosen there yet), the
    /// selection starts on the top row, the most urgent: live, it was kept on the alert first
    /// when the dashboard opened, by then a pending row further down.
    private func focus(_ f: Focus) {
        if f == .alerts, state.focus != .alerts, !state.alertChosen, state.detailSite == nil {
            state.selectedAlert = visibleAlerts.first.map(AlertID.init)
        }
        if f == .alerts { state.alertChosen = true }
        state.focus = f
    }

    /// Paused replay: the data does not move, only the replay status (speed, paused) changes.
    private func refreshKeepingData() { refresh() }

    private func command(_ c: DriverCommand) {
        if let msg = driver.perform(c) { state.message = msg }
        // Explicit commands show their effect even while paused (in replay nothing else moves).
        refresh()
    }

    /// `a` or `s` on urgentflow's own alert that a notifier keeps failing: there is no one to
    /// stop paging (it pages nobody) and no rule to acknowledge; it goes when the notifier works.
    static func ownAlertMessage(notifier: String, doing: String) -> String {
        "Nothing to \(doing): urgentflow's own alert; it clears when a delivery to \(notifier) succeeds"
    }

    /// The action the prompt would send, with what is typed so far (a placeholder id and time:
    /// only the line's content is checked).
    private static func action(_ p: AckPrompt, who: String, duration: FlowCore.Duration?, note: String) -> OperatorAction {
        let at = EventTime(millis: 0)
        switch p.purpose {
        case .acknowledge:
            return OperatorAction(id: "ack-check", at: at, kind: .acknowledge(rule: p.alert.rule, site: p.alert.site, by: who.isEmpty ? "-" : who,
                                                                            note: note.isEmpty ? nil : note))
        case .silence:
            return OperatorAction(id: "silence-check", at: at, kind: .silence(site: p.alert.site, rule: p.alert.rule,
                                                                           until: at + (duration ?? .hours(1)), by: who.isEmpty ? "-" : who,
                                                                           reason: note.isEmpty ? "-" : note))
        }
    }

    /// Would urgentflow refuse what the prompt holds? The field to correct and why, said as the
    /// engine's own check says it (`OperatorAction.refusal`), or nil.
    private static func refusal(_ p: AckPrompt, who: String, duration: FlowCore.Duration?, note: String) -> (AckPrompt.Field, String)? {
        guard let r = action(p, who: who, duration: duration, note: note).refusal else { return nil }
        let field: AckPrompt.Field = r.field == "by" ? .who : (r.field == "until" ? .duration : .note)
        let what = p.purpose == .silence ? "Not silenced" : "Not acknowledged"
        return (field, "\(what): " + OperatorAction.explain(r))
    }

    /// Why a silence's length as typed cannot be used, or nil: none typed, a number without a
    /// unit, not a length, no time at all, or over the longest a silence lasts
    /// (`FlowEngine.longestSilence`, as `urgentflow silence --for` and the engine check).
    static func durationProblem(_ typed: String) -> String? {
        let text = typed.trimmingCharacters()
        let most = FlowEngine.longestSilence.description
        let hint = "(like 30m, 2h, 1h30m; up to \(most))"
        if text.isEmpty { return "For how long? Type a length \(hint)" }
        guard let d = FlowCore.Duration.parse(text) else {
            if let last = text.last, last.isASCII, last.isNumber {
                let number = String(text.reversed().prefix { $0.isASCII && $0.isNumber }.reversed())
                if text.allSatisfy({ $0.isASCII && ($0.isNumber || "smhd".contains($0)) }) {
                    let after = number == text ? "" : " after \(number)"
                    return "\(text) needs a unit\(after): s, m, h or d \(hint)"
                }
            }
            return "\(text) is not a length \(hint)"
        }
        if d.millis <= 0 { return "\(text) is no time: a silence must last more than 0 \(hint)" }
        if d > FlowEngine.longestSilence { return "\(text) is over the \(most) maximum: a silence lasts at most \(most)" }
        return nil
    }

    private func alertToAcknowledge() -> AlertID? {
        if state.focus == .alerts, let a = state.selectedAlert, visibleAlerts.contains(where: { AlertID($0) == a }) {
            return a
        }
        // From a site: its most severe active alert (the list is most severe first).
        let site = state.detailSite ?? state.selectedSite
        return orderedAlerts.first { $0.site == site && $0.acknowledgedBy == nil && $0.state != .pending }.map(AlertID.init)
            ?? orderedAlerts.first { $0.site == site && $0.state != .pending }.map(AlertID.init)
            ?? orderedAlerts.first { $0.site == site }.map(AlertID.init)
    }

    private func move(_ delta: Int) {
        if state.detailSite != nil && state.focus == .sites {
            let count = snapshot.sites.first { $0.code == state.detailSite }?.metrics.count ?? 0
            state.detailScroll = min(max(0, count - 1), max(0, state.detailScroll.addingClamped(delta)))
            return
        }
        switch state.focus {
        case .sites:
            let list = visibleSites
            guard !list.isEmpty else { return }
            let i = selectedSiteIndex ?? 0
            state.selectedSite = list[min(list.count - 1, max(0, i.addingClamped(delta)))].code
        case .alerts:
            let list = visibleAlerts
            guard !list.isEmpty else { return }
            let i = selectedAlertIndex ?? 0
            state.selectedAlert = AlertID(list[min(list.count - 1, max(0, i.addingClamped(delta)))])
        }
    }

    private func handleFilterInput(_ key: Key) -> Outcome {
        switch key {
        case .escape:
            state.filter = ""
            state.editingFilter = false
        case .enter:
            state.editingFilter = false
        case .backspace:
            if !state.filter.isEmpty { state.filter.removeLast() }
        case .char(let c):
            if let s = c.unicodeScalars.first, !TerminalText.isUnsafe(s.value), state.filter.count < 40 {
                state.filter.append(c)
            }
        default:
            return .ignored
        }
        normaliseSelection()
        return .redraw
    }

    private func handlePrompt(_ key: Key) -> Outcome {
        guard var p = state.ack else { return .ignored }
        let silence = p.purpose == .silence
        switch key {
        case .escape:
            state.ack = nil
            state.message = silence ? "Silence cancelled" : "Acknowledgement cancelled"
            return .redraw
        case .tab, .backTab:
            let f = p.fields
            let i = f.firstIndex(of: p.field) ?? 0
            p.field = f[(i + (key == .tab ? 1 : f.count - 1)) % f.count]
        case .enter:
            let who = p.who.trimmingCharacters()
            let duration = FlowCore.Duration.parse(p.duration.trimmingCharacters())
            let note = p.note.trimmingCharacters()
            switch p.field {
            case .who:
                if who.isEmpty {
                    state.message = silence ? "Who is silencing? (name required)" : "Who is acknowledging? (name required)"
                    return .redraw
                }
                if let (_, why) = Self.refusal(p, who: who, duration: nil, note: "") {
                    p.problem = why
                    state.message = why
                    state.ack = p
                    return .redraw
                }
                p.field = silence ? .duration : .note
            case .duration:
                if let why = Self.durationProblem(p.duration) {
                    // Why, in the prompt and on the status line: it repeated the question.
                    p.problem = why
                    state.message = why
                    state.ack = p
                    return .redraw
                }
                p.field = .note
            case .note:
                guard !who.isEmpty else { p.field = .who; state.ack = p; return .redraw }
                if let (field, why) = Self.refusal(p, who: who, duration: duration, note: note) {
                    // Refused here, before it is sent, with the reason the engine would give;
                    // the prompt stays open on the field to correct.
                    p.field = field
                    p.problem = why
                    state.message = why
                    state.ack = p
                    return .redraw
                }
                let cmd: DriverCommand
                if silence {
                    guard let d = duration, Self.durationProblem(p.duration) == nil else {
                        p.field = .duration
                        p.problem = Self.durationProblem(p.duration)
                        state.message = p.problem
                        state.ack = p
                        return .redraw
                    }
                    guard !note.isEmpty else { state.message = "Why? (a reason is required)"; return .redraw }
                    cmd = .silence(rule: p.alert.rule, site: p.alert.site, by: who, duration: d, reason: note)
                } else {
                    cmd = .acknowledge(rule: p.alert.rule, site: p.alert.site, by: who, note: note.isEmpty ? nil : note)
                }
                state.ack = nil
                state.message = driver.perform(cmd)
                    ?? (silence ? "Silenced \(p.alert.rule) at \(p.alert.site) for \(p.duration) by \(who)"
                                : "Acknowledged \(p.alert.rule) at \(p.alert.site) by \(who)")
                if !state.paused || isReplay { refresh() }
                return .redraw
            }
        case .backspace:
            p.problem = nil
            switch p.field {
            case .who: if !p.who.isEmpty { p.who.removeLast() }
            case .duration: if !p.duration.isEmpty { p.duration.removeLast() }
            case .note: if !p.note.isEmpty { p.note.removeLast() }
            }
        case .char(let c):
            guard let s = c.unicodeScalars.first, !TerminalText.isUnsafe(s.value) else { return .ignored }
            p.problem = nil
            switch p.field {
            case .who: if p.who.count < 40 { p.who.append(c) }
            case .duration: if p.duration.count < 8 { p.duration.append(c) }
            case .note: if p.note.count < 200 { p.note.append(c) }
            }
        default:
            return .ignored
        }
        state.ack = p
        return .redraw
    }

    // MARK: rendering

    public func render(into grid: inout CellGrid, theme: Theme) {
        DashboardView.render(self, into: &grid, theme: theme)
    }
}

extension Int {
    func addingClamped(_ d: Int) -> Int {
        let (r, o) = addingReportingOverflow(d)
        return o ? (d > 0 ? Int.max : Int.min) : r
    }
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " { s = s.dropFirst() }
        while let l = s.last, l == " " { s = s.dropLast() }
        return String(s)
    }
}
