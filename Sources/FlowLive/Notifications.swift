import FlowCore
import FlowNotify

/// Notifications for urgentflow: the system file's `notifications:` section, in replay with
/// recording sinks standing in for every notifier (unless delivery is explicitly asked for), live
/// with the configured notifiers.
public enum Notifications {
    /// A notification service when the system file has a `notifications:` section, else nil.
    public static func start(system: SystemConfig, text: String, path: String, directory: String, mode: NotificationService.Mode) throws -> NotificationService? {
        let config: NotificationConfig
        do { config = try NotifyConfigLoader.load(yaml: text, file: path, system: system) } catch {
            throw LiveError("notifications configuration has problems:\n\(error)")
        }
        if mode == .live { for w in config.unitsWithoutLeadWarnings(system: system) { Log.warn(w) } }
        // The loader gives an empty configuration when the file has no notifications section.
        guard !config.notifiers.isEmpty else { return nil }
        do {
            let service = try NotificationService(system: system, config: config, stateDirectory: directory, mode: mode)
            service.onStateProblem = { Log.warn($0) }
            if let m = service.migration { Log.info(m) }
            for w in service.identifiableText.prefix(10) { Log.warn(w) }
            if service.identifiableText.count > 10 { Log.warn("notification log: \(service.identifiableText.count - 10) more lines hold patient-identifiable data") }
            // A pager command that cannot run was found at the first critical page, minutes or
            // days in (the operators' user test): said at the start.
            if mode == .live {
                for c in config.unrunnableCommands {
                    Log.warn("notifier \(c.notifier): cannot run \(c.program): \(c.why); its messages will wait, retried with backoff, until it can")
                }
            }
            service.onNotifierStatusChange = { say($0) }
            // Failing still, from the last run's deliveries: said now, as no change will say it.
            for s in service.notifierStatus() where s.failing { Log.warn(s.change, about: "notifier " + s.name) }
            return service
        } catch {
            throw LiveError("cannot open the notification state in \(directory): \(error)")
        }
    }

    /// Says a notifier's change on stderr: failing as a warning (the dashboard's status line
    /// shows it), delivering again as information that settles that warning, so the status line
    /// follows it (it said `failing` for five minutes after the notifier delivered again).
    static func say(_ s: NotifierStatus) {
        if s.failing { Log.warn(s.change, about: "notifier " + s.name) } else {
            Log.info(s.change)
            Log.settled("notifier " + s.name)
        }
    }

    /// Shows who was actually warned (by rota and escalation) on the dashboard's alerts, or why
    /// nobody was (`AlertSnapshot.notWarned`: silenced, unstable, nobody yet), and adds
    /// the notifiers' own alerts when one keeps failing. A message still held for its lead's
    /// digest is said as held (`heldForDigestUntil`): that lead has not been told yet.
    public static func overlay(_ snap: inout DashboardSnapshot, _ notifier: NotificationService) {
        let status = notifier.activeAlerts()
        let leads = notifier.config.leads + notifier.system.leads
        func name(_ id: String) -> String { leads.first { $0.id == id }?.name ?? id }
        for i in snap.alerts.indices {
            let n = status.first { $0.rule == snap.alerts[i].rule && $0.site == snap.alerts[i].site }
            guard let n, let id = n.leadID else {
                // No message of this episode went to a lead. The core's lead (the first in
                // `leads:` covering the site) was shown here, named as warned though nobody was
                // told: a site silenced when it fired said `Bill Dunn`, where the rota had Gus
                // Ives on at night, and flapping alerts named their site's lead (user test).
                guard snap.alerts[i].state != .pending else { continue }
                snap.alerts[i].leadID = nil
                snap.alerts[i].leadName = nil
                // A message that went to no lead (none covers the site) is not "not sent".
                if n?.lastNotifiedAt != nil { continue }
                snap.alerts[i].notWarned = n?.silencedBy != nil || snap.alerts[i].silencedUntil != nil ? .silenced
                    : n?.unstable == true ? .unstable : .notYet
                continue
            }
            snap.alerts[i].leadID = id
            snap.alerts[i].leadName = name(id)
            snap.alerts[i].heldForDigestUntil = n.heldUntil
            snap.alerts[i].toldName = n.toldLeadID.map(name)
        }
        // First, in the notifiers' name order; each carries its notifier's name, as all have the
        // same rule and site (the dashboard's selection moved through them as one row).
        let own = notifier.failingNotifiers(now: snap.now).map { n, a in
            AlertSnapshot(rule: a.rule, site: a.site, severity: a.severity, state: .firing, value: a.value,
                          summary: a.summary, since: a.since, leadID: nil, leadName: nil,
                          acknowledgedBy: nil, acknowledgedAt: nil, ackNote: nil, notifier: n)
        }
        snap.alerts.insert(contentsOf: own, at: 0)
    }
}


/// Keeps a notification service in step with a replay on the event clock: the transitions as
/// they come, and the policy ticked on the tick grid, as the live clock ticks it (at each grid
/// instant where something is due: repeats, escalations, expiries, silence ends, digests), after
/// the transitions of that instant's evaluation. Each message says its alert as `engine`
/// describes it then (`FlowEngine.activeAlert`).
///
/// It ticked the policy at the instant of the first line at or after each minute: between
/// sparse lines a reminder due at 01:08:00 was decided, and dated, at the next line, 01:08:25,
/// and an escalation due at 23:01:00 at 23:03:38 (the analysts' user test: 44 of 154
/// notifications of handover-crisis off the grid, later in quiet hours).
public struct NotifierFollower {
    public let service: NotificationService
    public let engine: FlowEngine
    /// The latest grid instant the policy was ticked at.
    private var lastTick: EventTime?

    public init(_ service: NotificationService, engine: FlowEngine) {
        self.service = service
        self.engine = engine
    }

    public mutating func follow(_ transitions: [AlertTransition], now: EventTime?) {
        guard let now else {
            if !transitions.isEmpty { service.handle(transitions, current: engine.activeAlert) }
            return
        }
        // In time order: the transitions of each evaluated tick, and the policy's ticks between
        // them (a replay at full speed hands over a day of transitions at once).
        let step = Duration(millis: max(1000, engine.config.tick.millis))
        var rest = transitions[...]
        while true {
            let next = rest.first?.at
            if let due = service.nextDue() {
                // The first grid instant at or after `due`, after the last tick; before the
                // next transition's (the evaluation of an instant comes before the policy's
                // tick there, as live).
                var g = PolicyClock.instant(due, tick: engine.config.tick)
                if g < due { g = g + step }
                if let last = lastTick, g <= last { g = last + step }
                if g <= now, next.map({ g < $0 }) ?? true {
                    let engine = engine
                    service.tick(now: g, current: { engine.activeAlert(rule: $0, site: $1, at: g) })
                    lastTick = g
                    continue
                }
            }
            guard let at = next else { break }
            let batch = rest.prefix { $0.at == at }
            service.handle(Array(batch), current: engine.activeAlert)
            rest = rest.dropFirst(batch.count)
        }
    }
}
