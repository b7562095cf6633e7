import FlowCore

/// An acknowledgement of an active alert by a person (dashboard or command line).
public struct Acknowledgement: Sendable, Equatable, Codable {
    public var by: String
    public var at: EventTime
    public var note: String?
    /// After this the alert is notified again if it is still firing (nil: never).
    public var expires: EventTime?
    public init(by: String, at: EventTime, note: String? = nil, expires: EventTime? = nil) {
        self.by = by
        self.at = at
        self.note = note
        self.expires = expires
    }

    enum CodingKeys: String, CodingKey { case by, at, note, expires }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        by = try c.decode(String.self, forKey: .by)
        at = try RFC3339.parse(c.decode(String.self, forKey: .at)) ?? EventTime(millis: 0)
        note = try c.decodeIfPresent(String.self, forKey: .note)
        expires = try c.decodeIfPresent(String.self, forKey: .expires).flatMap(RFC3339.parse)
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(by, forKey: .by)
        try c.encode(RFC3339.format(at), forKey: .at)
        try c.encode(note, forKey: .note)
        try c.encode(expires.map(RFC3339.format), forKey: .expires)
    }
}

/// What the dashboard can show about an alert's notifications.
public struct NotifyAlertStatus: Sendable, Equatable {
    public var rule: String
    public var site: String
    public var severity: Severity
    public var since: EventTime
    /// The lead the latest message is for (it may still be held for their digest: `heldUntil`).
    public var leadID: String?
    /// The latest message waits in `leadID`'s digest (the lead's budget is spent), which goes
    /// out at the first tick from this instant (`budget.digest_after` after the first message
    /// held); nil when it has gone out. That lead has not been told yet.
    public var heldUntil: EventTime? = nil
    /// The lead last actually told of this alert (a message sent, alone or in a digest); nil
    /// when nobody has been yet.
    public var toldLeadID: String? = nil
    public var escalationLevel: Int
    public var acknowledgement: Acknowledgement?
    public var silencedBy: Silence?
    public var unstable: Bool
    public var lastNotifiedAt: EventTime?
}

/// The notification decisions, as a pure state machine: alert transitions, operator actions and
/// the clock (event time, passed in) go in; notifications come out. No I/O, no wall clock: the
/// same inputs give the same notifications with the same ids, which is what makes a restart
/// (re-feeding the same history) send none twice.
///
/// Call `tick(now:current:)` on every engine tick (or at least every minute); `handle(_:current:)`
/// runs the tick for the transition's time first.
///
/// What a message says of its alert (`value`, `summary`) is the alert as of the instant the
/// message is made: a transition's own for the messages it makes (firing, severity change,
/// resolve, unstable), else the rule engine's description of the alert at that tick, asked of
/// `current` (`FlowEngine.activeAlert`, what the dashboard shows). The value is rounded as the
/// sentences say it (`Format.rounded`). Without `current` (a restart re-feeding its history, whose
/// engine is past those instants) a message says what the alert's last transition said.
public struct NotificationPolicy: Sendable {
    /// The rule engine's alert of a rule at a site as of the tick being decided (value and
    /// sentence described then; `FlowEngine.activeAlert`); nil when the engine has none.
    public typealias CurrentAlert = (_ rule: String, _ site: String) -> AlertSnapshot?

    struct Key: Hashable, Comparable {
        var rule: String
        var site: String
        static func < (a: Key, b: Key) -> Bool { (a.rule, a.site) < (b.rule, b.site) }
    }

    struct Episode: Sendable {
        var since: EventTime
        var severity: Severity
        var value: Double?
        var summary: String
        var unknown = false
        var level = 0
        /// When the current lead was first told (the escalation timer); nil: nobody told yet.
        var levelSince: EventTime?
        var lastSentAt: EventTime?
        var sequence = 0
        var ack: Acknowledgement?
        /// The first notification of the episode (a resolve pairs with it).
        var firstID: String?
        var lastLabels: PreviousLabels?
        /// The lead of the latest message that went out (alone or in a digest); nil: none yet.
        var told: String?
    }

    struct Unstable: Sendable {
        var id: String
        var since: EventTime
        var lead: LeadRef?
        var severity: Severity
    }

    struct KeyState: Sendable {
        var episode: Episode?
        var changes: [EventTime] = []
        var flapping = false
        var unstable: Unstable?
        var lastChange: EventTime?
        /// The worst severity the lead was told of during the current flapping spell (the
        /// `unstable` message's, or a critical sent since: `criticalWhileFlapping`).
        var toldWhileFlapping: Severity?
    }

    struct Held: Sendable {
        var since: EventTime
        var items: [AlertNotification]
    }

    public let resolver: LeadResolver
    /// `LeadResolver.longestChain` by site and severity, worked out once each.
    private var longestChains: [String: Int] = [:]

    private mutating func longestChain(site: String, severity: Severity) -> Int {
        let k = site + "|" + severity.rawValue
        if let n = longestChains[k] { return n }
        let n = resolver.longestChain(site: site, severity: severity)
        longestChains[k] = n
        return n
    }
    public var config: NotificationConfig { resolver.config }
    // What `nextDue` reads: a change to any of them forgets the instant it found.
    var keys: [Key: KeyState] = [:] { didSet { dueKnown = false } }
    var silences: [Silence] = [] { didSet { dueKnown = false } }
    /// Times of messages sent per lead (within the budget window).
    var sent: [String: [EventTime]] = [:]
    var held: [String: Held] = [:] { didSet { dueKnown = false } }
    public private(set) var now = EventTime(millis: .min) { didSet { dueKnown = false } }
    /// `nextDue`'s answer while none of the above changes: a restart's catch-up asks at each of
    /// the journal's clock marks (one a minute), and walking every alert each time was about a
    /// fifth of the restart of a 120-day journal.
    private var dueKnown = false
    private var dueAnswer: EventTime?

    public init(system: SystemConfig, config: NotificationConfig) {
        resolver = LeadResolver(system: system, config: config)
    }

    // MARK: - Inputs

    /// One alert transition from the rule engine. Returns the notifications to send (those due
    /// on the clock up to the transition's time first).
    /// `current`: the engine's alerts as of the transition's tick, for what that tick sends
    /// besides (repeats, escalations, expiries).
    public mutating func handle(_ t: AlertTransition, current: CurrentAlert? = nil) -> [AlertNotification] {
        var out = tick(now: t.at, current: current)
        let key = Key(rule: t.rule, site: t.site)
        var ks = keys[key] ?? KeyState()
        switch t.state {
        case .pending, .cancelled:
            return out
        case .unknown:
            if var ep = ks.episode {
                ep.unknown = true
                ep.value = nil
                ep.summary = t.summary
                ks.episode = ep
                keys[key] = ks
            }
            return out
        case .firing:
            if var ep = ks.episode, ep.since == t.since {
                // Known again after unknown: the same episode, still firing.
                ep.unknown = false
                ep.value = t.value
                ep.summary = t.summary
                ks.episode = ep
                keys[key] = ks
                return out
            }
            ks.episode = Episode(since: t.since, severity: t.severity, value: t.value, summary: t.summary)
            keys[key] = ks
            if change(key, at: t.at, into: &out) { criticalWhileFlapping(key, .firing, at: t.at, into: &out); return out }
            if !isSilenced(key, at: t.at) { emit(key, .firing, into: &out) }
        case .severityChanged:
            var ep = ks.episode ?? Episode(since: t.since, severity: t.severity, value: t.value, summary: t.summary)
            let up = t.severity > ep.severity
            ep.severity = t.severity
            ep.value = t.value
            ep.summary = t.summary
            ep.unknown = false
            if up {
                ep.ack = nil
                if ep.levelSince != nil { ep.levelSince = t.at }
            }
            ks.episode = ep
            keys[key] = ks
            if change(key, at: t.at, into: &out) { criticalWhileFlapping(key, .severityChanged, at: t.at, into: &out); return out }
            if !isSilenced(key, at: t.at) { emit(key, .severityChanged, into: &out) }
        case .resolved:
            if var ep = ks.episode {
                ep.value = t.value
                ep.summary = t.summary
                ks.episode = ep
                keys[key] = ks
            }
            let flapping = change(key, at: t.at, into: &out, resolving: true)
            if !flapping, keys[key]?.episode?.firstID != nil, !isSilenced(key, at: t.at) {
                emit(key, .resolved, into: &out)
            }
            keys[key]?.episode = nil
            if let k = keys[key], !k.flapping, k.changes.isEmpty { keys[key] = nil }
        }
        return out
    }

    /// Acknowledges an active alert: no repeats and no escalation until it expires (`expires`,
    /// else the system's `acknowledgement_expiry` from `at`: `SystemConfig.ackExpires`) or the
    /// alert gets worse. False if not active.
    @discardableResult
    public mutating func acknowledge(rule: String, site: String, by: String, note: String? = nil, at: EventTime,
                                     expires: EventTime? = nil) -> Bool {
        let key = Key(rule: rule, site: site)
        guard keys[key]?.episode != nil else { return false }
        // The system's expiry, reckoned as the core's alert state reckons it (`RuleEngine.acknowledge`).
        let exp = resolver.system.ackExpires(givenAt: at, expires: expires)
        keys[key]!.episode!.ack = Acknowledgement(by: by, at: at, note: note, expires: exp)
        return true
    }

    /// Starts a silence, as the engine does (`FlowEngine.silence`): it replaces the silences of
    /// its site and rule (every one of the site when it names no rule) and one with its id. One
    /// whose `until` is not after `from` (an operator's `--for 0s`, the dashboard's end) ends
    /// them instead, so the next tick tells the lead of each alert still firing
    /// (`silence_ended`) and repeats and escalation start again. It was added beside them, and
    /// the silence it ended held every page back for the rest of its time.
    public mutating func silence(_ s: Silence) {
        let replaced = { (x: Silence) in x.id == s.id || (x.site == s.site && (s.rule == nil || x.rule == s.rule)) }
        if s.until <= s.from {
            for i in silences.indices where replaced(silences[i]) && silences[i].until > s.from {
                silences[i].until = max(s.from, silences[i].from)
            }
            return
        }
        silences.removeAll(where: replaced)
        silences.append(s)
    }

    /// Ends a silence early; its alerts still firing are notified on the next tick.
    public mutating func endSilence(id: String, at: EventTime) {
        for i in silences.indices where silences[i].id == id && silences[i].until > at {
            silences[i].until = max(at, silences[i].from)
        }
    }

    /// Advances the clock: acknowledgement expiry, silence ends, flapping ends, escalation,
    /// repeats and digests due at or before `now`. `current`: the engine's alerts as of `now`,
    /// for what those messages say of their alert.
    public mutating func tick(now t: EventTime, current: CurrentAlert? = nil) -> [AlertNotification] {
        if t > now { now = t }
        let t = now
        var out: [AlertNotification] = []
        // Silences that have ended: notify what they held back.
        let ended = silences.filter { $0.until <= t }
        silences.removeAll { $0.until <= t }
        for key in keys.keys.sorted() {
            guard var ks = keys[key] else { continue }
            // Flapping ends after a quiet period.
            if ks.flapping, let last = ks.lastChange, t - last >= config.flapping.quiet {
                ks.flapping = false
                ks.changes = []
                ks.toldWhileFlapping = nil
                let unstable = ks.unstable
                ks.unstable = nil
                keys[key] = ks
                if ks.episode != nil {
                    if !isSilenced(key, at: t) { emit(key, .firing, into: &out, current: current) }
                } else if let u = unstable, !isSilenced(key, at: t) {
                    let n = AlertNotification(id: StableHash.fnv1a64("\(key.rule)|\(key.site)|\(u.since.millis)|stable-resolved|\(u.id)"),
                                         kind: .resolved, at: t, rule: key.rule, site: key.site, severity: u.severity, state: "resolved",
                                         value: nil, summary: "\(key.rule) at \(key.site) is stable again and not firing",
                                         since: u.since, endedAt: last, lead: u.lead, pairsWith: u.id)
                    admit(n, into: &out)
                    keys[key] = nil
                    continue
                } else if ks.changes.isEmpty {
                    keys[key] = nil
                    continue
                }
                ks = keys[key]!
            }
            guard var ep = ks.episode else { continue }
            let silenced = isSilenced(key, at: t)
            // Acknowledgement expiry.
            if let a = ep.ack, let e = a.expires, e <= t {
                ep.ack = nil
                ep.levelSince = ep.levelSince.map { _ in t }
                keys[key]!.episode = ep
                if !silenced && !ks.flapping { emit(key, .ackExpired, into: &out, current: current); continue }
            }
            // A silence covering it ended and it is still firing.
            if !silenced, !ks.flapping, ep.ack == nil, ended.contains(where: { $0.covers(rule: key.rule, site: key.site) }) {
                if ep.levelSince != nil { keys[key]!.episode!.levelSince = t }
                emit(key, .silenceEnded, into: &out, current: current)
                continue
            }
            guard ep.ack == nil, !silenced, !ks.flapping, ep.firstID != nil else { continue }
            // Escalation to the next lead.
            if let since = ep.levelSince, t - since >= config.escalation.after(ep.severity),
               ep.level + 1 < longestChain(site: key.site, severity: ep.severity) {
                let chain = resolver.chain(site: key.site, severity: ep.severity, at: t)
                if ep.level + 1 < chain.leads.count {
                    keys[key]!.episode!.level += 1
                    keys[key]!.episode!.levelSince = t
                    emit(key, .escalated, into: &out, current: current)
                    continue
                }
            }
            // Repeat.
            if let r = config.repeatInterval, let last = ep.lastSentAt, t - last >= r {
                emit(key, .repeat, into: &out, current: current)
            }
        }
        flushDigests(at: t, into: &out)
        return out
    }

    /// The earliest instant after the last tick at which `tick` could decide anything (a
    /// silence or acknowledgement ending, an unstable alert settling, an escalation, a repeat, a
    /// digest), or nil when nothing is pending. Never later than the first such decision; earlier
    /// only costs a tick. A restart skips the journal's clock marks before it
    /// (`NotificationService.catchUp`): ticking every mark of a long journal took seconds.
    public mutating func nextDue() -> EventTime? {
        if dueKnown { return dueAnswer }
        var due: EventTime?
        func take(_ t: EventTime) { if due == nil || t < due! { due = t } }
        for h in held.values { take(h.since + config.budget.digestAfter) }
        // Every silence, ended or not: one ended early (`endSilence`, a silence of no length)
        // still waits for the tick that removes it and tells the leads it held back.
        for s in silences { take(s.until) }
        for (key, ks) in keys {
            if ks.flapping { take(ks.lastChange.map { $0 + config.flapping.quiet } ?? now) }
            guard let ep = ks.episode else { continue }
            if let e = ep.ack?.expires { take(e) }
            guard ep.ack == nil, ep.firstID != nil else { continue }
            if let since = ep.levelSince, ep.level + 1 < longestChain(site: key.site, severity: ep.severity) {
                take(since + config.escalation.after(ep.severity))
            }
            if let r = config.repeatInterval, let last = ep.lastSentAt { take(last + r) }
        }
        dueAnswer = due
        dueKnown = true
        return due
    }

    // MARK: - Reading

    public func isSilenced(rule: String, site: String, at t: EventTime) -> Silence? {
        silences.first { $0.covers(rule: rule, site: site) && $0.isActive(at: t) }
    }

    func isSilenced(_ key: Key, at t: EventTime) -> Bool { isSilenced(rule: key.rule, site: key.site, at: t) != nil }

    /// Alerts the policy knows to be active, in rule then site order.
    public func activeAlerts() -> [NotifyAlertStatus] {
        keys.keys.sorted().compactMap { key in
            guard let ks = keys[key], let ep = ks.episode else { return nil }
            let lead = ep.lastLabels?.lead
            return NotifyAlertStatus(rule: key.rule, site: key.site, severity: ep.severity, since: ep.since, leadID: lead,
                                     heldUntil: lead.flatMap { heldUntil(key, since: ep.since, lead: $0) }, toldLeadID: ep.told,
                                     escalationLevel: ep.level, acknowledgement: ep.ack,
                                     silencedBy: isSilenced(rule: key.rule, site: key.site, at: now), unstable: ks.flapping,
                                     lastNotifiedAt: ep.lastSentAt)
        }
    }

    public var activeSilences: [Silence] { silences }

    /// Notifications held for a lead's next digest.
    public func heldCount(lead: String) -> Int { held[lead]?.items.count ?? 0 }

    /// When the digest holding the episode's latest message to `lead` is due, or nil when that
    /// message went out. Once a lead's budget is spent every message to them is held until the
    /// digest goes, so a message of the episode among the held ones means its latest one is.
    func heldUntil(_ key: Key, since: EventTime, lead: String) -> EventTime? {
        guard let h = held[lead], h.items.contains(where: { $0.rule == key.rule && $0.site == key.site && $0.since == since })
        else { return nil }
        return h.since + config.budget.digestAfter
    }

    // MARK: - Deciding

    /// Records a state change for flapping; returns true when the alert is flapping (nothing
    /// else is to be sent for this change). Sends `unstable` once when it starts.
    private mutating func change(_ key: Key, at t: EventTime, into out: inout [AlertNotification], resolving: Bool = false) -> Bool {
        guard config.flapping.enabled, var ks = keys[key] else { return false }
        ks.changes.append(t)
        ks.changes.removeAll { t - $0 >= config.flapping.window }
        ks.lastChange = t
        keys[key] = ks
        if ks.flapping { return true }
        guard ks.changes.count >= config.flapping.changes else { return false }
        keys[key]!.flapping = true
        if !isSilenced(key, at: t), keys[key]!.episode != nil {
            if let n = emit(key, .unstable, into: &out, state: resolving ? "resolved" : "firing") {
                keys[key]!.unstable = Unstable(id: n.id, since: n.since, lead: n.lead, severity: n.severity)
                keys[key]!.toldWhileFlapping = n.severity
            }
        }
        return true
    }

    /// A flapping alert that turns critical is sent all the same, once a flapping spell: the
    /// `unstable` message had said it at warning, and a stale feed gone critical was sent to
    /// nobody while it flapped (the ops engineer's user test, 2026-11-25). Its other changes
    /// still wait for the spell to end.
    private mutating func criticalWhileFlapping(_ key: Key, _ kind: NotificationKind, at t: EventTime, into out: inout [AlertNotification]) {
        guard let ks = keys[key], let ep = ks.episode, ep.severity == .critical, ks.toldWhileFlapping != .critical,
              !isSilenced(key, at: t) else { return }
        keys[key]!.toldWhileFlapping = .critical
        emit(key, kind, into: &out)
    }

    /// The alert as the engine describes it now (`current`), into the episode: what a message
    /// made at a tick says. Only an alert of the same episode (its `since`), firing or unknown.
    private mutating func describeNow(_ key: Key, _ current: CurrentAlert?) {
        guard let current, let since = keys[key]?.episode?.since, let a = current(key.rule, key.site),
              a.since == since, a.state != .pending else { return }
        keys[key]!.episode!.value = a.value
        keys[key]!.episode!.summary = a.summary
    }

    /// `current`: for a message made at a tick (not from a transition), the engine's alert now.
    @discardableResult
    private mutating func emit(_ key: Key, _ kind: NotificationKind, into out: inout [AlertNotification], state: String? = nil,
                               current: CurrentAlert? = nil) -> AlertNotification? {
        describeNow(key, current)
        guard var ep = keys[key]?.episode else { return nil }
        let t = now
        ep.sequence += 1
        var lead: LeadRef?
        var chainRota: String?, chainShift: String?
        if kind == .resolved, let last = ep.lastLabels {
            lead = last.lead.flatMap(resolver.lead).map(LeadRef.init)
        } else {
            let chain = resolver.chain(site: key.site, severity: ep.severity, at: t)
            if !chain.leads.isEmpty { lead = LeadRef(chain.leads[min(ep.level, chain.leads.count - 1)]) }
            chainRota = chain.rota
            chainShift = chain.shift
        }
        let id = StableHash.fnv1a64("\(key.rule)|\(key.site)|\(ep.since.millis)|\(kind.rawValue)|\(ep.sequence)")
        var previous: PreviousLabels? = nil
        if let last = ep.lastLabels, last.severity != ep.severity || last.lead != lead?.id { previous = last }
        let st = state ?? (kind == .resolved ? "resolved" : "firing")
        let n = AlertNotification(id: id, kind: kind, at: t, rule: key.rule, site: key.site, severity: ep.severity, state: st,
                             value: ep.value.map(Format.rounded), summary: ep.summary, since: ep.since,
                             endedAt: st == "resolved" ? t : nil, lead: lead,
                             escalationLevel: ep.level, sequence: ep.sequence, pairsWith: kind == .resolved ? ep.firstID : nil,
                             previous: previous, rota: chainRota, shift: chainShift)
        if ep.firstID == nil && kind != .resolved { ep.firstID = id }
        ep.lastLabels = PreviousLabels(severity: ep.severity, lead: lead?.id)
        ep.lastSentAt = t
        if ep.levelSince == nil { ep.levelSince = t }
        keys[key]!.episode = ep
        if admit(n, into: &out), lead != nil { keys[key]!.episode!.told = lead?.id }
        return n
    }

    /// A message no budget holds: one saying a critical alert fires, worsens, is escalated, is
    /// unstable, or fires on after its silence or acknowledgement ended. Reminders (`repeat`) and
    /// resolves keep to the budget. A flapping stale feed gone critical was held 13 minutes in
    /// its `unstable` message, and a silence ending on two critical alerts 14 (user test).
    static func isUrgent(_ n: AlertNotification) -> Bool {
        guard n.severity == .critical else { return false }
        switch n.kind {
        case .firing, .severityChanged, .escalated, .unstable, .silenceEnded, .ackExpired: return true
        default: return false
        }
    }

    /// The per-lead budget: within it, a message goes out (true); beyond it, it is held for a
    /// digest (false). A critical alert's firing, worsening or escalation goes out whatever the
    /// budget (and counts in it): a handover queue gone critical waited 12 minutes for the
    /// digest of a lead whose budget stale-feed noise had spent (the ops engineer's user test).
    @discardableResult
    private mutating func admit(_ n: AlertNotification, into out: inout [AlertNotification]) -> Bool {
        guard let lead = n.lead?.id else { out.append(n); return true }
        let t = n.at
        var times = sent[lead] ?? []
        times.removeAll { t - $0 >= config.budget.window }
        let urgent = Self.isUrgent(n)
        if urgent || (times.count < config.budget.max && held[lead] == nil) {
            // Its alert's messages held for the digest go first, in order: the digest would
            // bring them after this one (a stale label set left in Alertmanager, a resolve of
            // the episode before closing this one's page), and dropping them lost an earlier
            // episode's resolve (user test).
            if urgent, var h = held[lead] {
                let itsOwn = h.items.filter { $0.rule == n.rule && $0.site == n.site }
                if !itsOwn.isEmpty {
                    for m in itsOwn { out.append(m); times.append(t) }
                    h.items.removeAll { $0.rule == n.rule && $0.site == n.site }
                    held[lead] = h.items.isEmpty ? nil : h
                }
            }
            times.append(t)
            sent[lead] = times
            out.append(n)
            return true
        }
        sent[lead] = times
        if held[lead] == nil { held[lead] = Held(since: t, items: []) }
        held[lead]!.items.append(n)
        return false
    }

    private mutating func flushDigests(at t: EventTime, into out: inout [AlertNotification]) {
        for lead in held.keys.sorted() {
            guard let h = held[lead], t - h.since >= config.budget.digestAfter else { continue }
            held[lead] = nil
            let items = h.items
            let worst = items.map(\.severity).max() ?? .warning
            let firing = items.filter { !$0.isResolved }.count
            let sites = Array(Set(items.map(\.site))).sorted()
            let summary = "\(items.count) alert notifications held (\(firing) firing, \(items.count - firing) resolved) at \(sites.joined(separator: ", "))"
            let n = AlertNotification(id: StableHash.fnv1a64("digest|\(lead)|\(h.since.millis)|\(items.map(\.id).joined(separator: ","))"),
                                 kind: .digest, at: t, rule: "digest", site: sites.count == 1 ? sites[0] : systemSiteCode, severity: worst,
                                 state: firing > 0 ? "firing" : "resolved", value: Double(items.count), summary: summary,
                                 since: h.since, lead: items.first?.lead, items: items)
            var times = sent[lead] ?? []
            times.append(t)
            sent[lead] = times
            out.append(n)
            // The lead has now been told of each alert it holds still active.
            for item in items {
                let key = Key(rule: item.rule, site: item.site)
                if keys[key]?.episode?.since == item.since { keys[key]!.episode!.told = lead }
            }
        }
    }
}
