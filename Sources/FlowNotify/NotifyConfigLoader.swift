import FlowCore
import Yams

/// Reads the `notifications:` section of a system file. Like `ConfigLoader`, every problem is
/// reported with file, line and key (the core's `ConfigProblem`, thrown in a `ConfigError`), and
/// a section with any problem is refused as a whole.
/// A file without the section gives the defaults with no rotas and no notifiers (leads then
/// come from the core `leads:` list).
public enum NotifyConfigLoader {
    public static func load(yaml text: String, file: String, system: SystemConfig) throws(ConfigError) -> NotificationConfig {
        // A key given twice is the core's to name (`ConfigLoader.read`): the rest is read here.
        let root: Node?
        switch ConfigLoader.composeAll(text, file: file).document {
        case .success(let node): root = node
        case .failure(let problem): throw ConfigError(problems: [problem])
        }
        var r = YAMLNodeReader(file: file)
        guard let root, case .mapping(let top) = root else {
            throw ConfigError(problems: [ConfigProblem(file: file, line: 1, key: "(document)", message: "expected a mapping")])
        }
        guard let section = top["notifications"] else { return NotificationConfig() }
        guard case .mapping(let n) = section else {
            throw ConfigError(problems: [ConfigProblem(file: file, line: section.mark?.line, key: "notifications", message: "expected a mapping")])
        }
        let p = "notifications"
        r.allowed(n, path: p, keys: ["leads", "rotas", "escalation", "repeat_interval", "acknowledgement_expiry", "flapping", "budget",
                                     "notifiers", "routes"])
        var config = NotificationConfig()
        var leadIDs = Set(system.leads.map(\.id))
        for (i, node) in r.sequence(n, "leads", path: p).enumerated() {
            let path = "\(p).leads[\(i)]"
            guard case .mapping(let m) = node else { r.problem(node, path, "expected a mapping"); continue }
            r.allowed(m, path: path, keys: ["id", "role", "name", "contact"])
            guard let id = r.string(m, "id", path: path, required: true) else { continue }
            if !leadIDs.insert(id).inserted { r.problem(m["id"], path + ".id", "'\(id)' is used by another lead") }
            let role = r.string(m, "role", path: path, required: true) ?? ""
            let name = r.string(m, "name", path: path, required: true) ?? ""
            let contact = r.string(m, "contact", path: path, required: false)
            config.leads.append(LeadConfig(id: id, role: role, name: name, contact: contact, units: [], severities: []))
        }
        let selectorNames = Set(system.units.map(\.code) + UnitKind.allCases.map(\.rawValue) + [systemSiteCode])

        func checkLeads(_ ids: [String], _ node: Node?, _ path: String) {
            for id in ids where !leadIDs.contains(id) {
                r.problem(node, path, "'\(id)' is not a lead id (leads: \(leadIDs.sorted().joined(separator: ", ")))")
            }
        }

        // rotas
        var rotaIDs = Set<String>()
        for (i, node) in r.sequence(n, "rotas", path: p).enumerated() {
            let path = "\(p).rotas[\(i)]"
            guard case .mapping(let m) = node else { r.problem(node, path, "expected a mapping"); continue }
            r.allowed(m, path: path, keys: ["id", "units", "severities", "shifts"])
            let id = r.string(m, "id", path: path, required: true) ?? "rota\(i)"
            if !rotaIDs.insert(id).inserted { r.problem(m["id"], path + ".id", "'\(id)' is used by another rota") }
            let units = r.strings(m, "units", path: path)
            if units.isEmpty { r.problem(m["units"] ?? m.first?.key, path + ".units", "is required (unit codes, kinds or SYSTEM)") }
            for u in units where !selectorNames.contains(u) {
                r.problem(m["units"], path + ".units", "'\(u)' is neither a unit code, a unit kind nor SYSTEM")
            }
            let severities = m["severities"] == nil ? Severity.allCases : r.severities(m, "severities", path: path)
            var shifts: [Shift] = []
            // Reported at the rota's first key (with its line), unlike the core's required lists.
            if m["shifts"] == nil { r.problem(m.first?.key, path + ".shifts", "is required") }
            for (j, sn) in r.sequence(m, "shifts", path: path).enumerated() {
                let spath = path + ".shifts[\(j)]"
                guard case .mapping(let sm) = sn else { r.problem(sn, spath, "expected a mapping"); continue }
                r.allowed(sm, path: spath, keys: ["name", "days", "from", "to", "leads"])
                let name = r.string(sm, "name", path: spath, required: false) ?? "shift\(j)"
                var days = Set<Weekday>()
                for d in r.strings(sm, "days", path: spath) {
                    if let range = Self.dayRange(d) { days.formUnion(range) } else {
                        r.problem(sm["days"], spath + ".days", "'\(d)' is not a weekday (mon..sun, or a range like mon-fri)")
                    }
                }
                if sm["days"] == nil { days = Set(Weekday.allCases) }
                let from = r.clock(sm, "from", path: spath) ?? 0
                let to = r.clock(sm, "to", path: spath) ?? 0
                let leads = r.strings(sm, "leads", path: spath)
                if leads.isEmpty { r.problem(sm["leads"] ?? sm.first?.key, spath + ".leads", "is required (lead ids, first on call first)") }
                checkLeads(leads, sm["leads"], spath + ".leads")
                shifts.append(Shift(name: name, days: days, from: from, to: to, leads: leads))
            }
            config.rotas.append(Rota(id: id, units: units, severities: severities, shifts: shifts))
        }

        if let e = r.mapping(n, "escalation", path: p) {
            let path = p + ".escalation"
            r.allowed(e, path: path, keys: ["after", "critical_after", "finally"])
            if let d = r.duration(e, "after", path: path, positive: true) { config.escalation.after = d }
            config.escalation.criticalAfter = r.duration(e, "critical_after", path: path, positive: true)
            config.escalation.finally = r.strings(e, "finally", path: path)
            checkLeads(config.escalation.finally, e["finally"], path + ".finally")
        }
        if n["repeat_interval"] != nil {
            if n["repeat_interval"]?.string == "never" { config.repeatInterval = nil } else {
                config.repeatInterval = r.duration(n, "repeat_interval", path: p, positive: true) ?? config.repeatInterval
            }
        }
        if let f = r.mapping(n, "flapping", path: p) {
            let path = p + ".flapping"
            r.allowed(f, path: path, keys: ["enabled", "window", "changes", "quiet"])
            if let b = f["enabled"] {
                if let v = b.bool { config.flapping.enabled = v } else { r.problem(b, path + ".enabled", "must be true or false") }
            }
            if let d = r.duration(f, "window", path: path, positive: true) { config.flapping.window = d }
            if let c = r.int(f, "changes", path: path, range: 2...1000) { config.flapping.changes = c }
            if let d = r.duration(f, "quiet", path: path, positive: true) { config.flapping.quiet = d }
        }
        if let b = r.mapping(n, "budget", path: p) {
            let path = p + ".budget"
            r.allowed(b, path: path, keys: ["max", "window", "digest_after"])
            if let v = r.int(b, "max", path: path, range: 1...10_000) { config.budget.max = v }
            if let d = r.duration(b, "window", path: path, positive: true) { config.budget.window = d }
            if let d = r.duration(b, "digest_after", path: path, positive: true) { config.budget.digestAfter = d }
        }

        // notifiers
        var names = Set<String>()
        for (i, node) in r.sequence(n, "notifiers", path: p).enumerated() {
            let path = "\(p).notifiers[\(i)]"
            guard case .mapping(let m) = node else { r.problem(node, path, "expected a mapping"); continue }
            guard let name = r.string(m, "name", path: path, required: true) else { continue }
            if !names.insert(name).inserted { r.problem(m["name"], path + ".name", "'\(name)' is used by another notifier") }
            let kind = r.string(m, "kind", path: path, required: true) ?? ""
            switch kind {
            case "log":
                r.allowed(m, path: path, keys: ["name", "kind", "path"])
                let file = r.string(m, "path", path: path, required: true) ?? ""
                config.notifiers.append(NotifierConfig(name: name, kind: .log(path: file)))
            case "command":
                r.allowed(m, path: path, keys: ["name", "kind", "command", "timeout"])
                let argv = r.strings(m, "command", path: path)
                if argv.isEmpty || argv[0].isEmpty { r.problem(m["command"] ?? m["name"], path + ".command", "is required (a program and its arguments)") }
                let timeout = r.duration(m, "timeout", path: path, positive: true) ?? .seconds(10)
                config.notifiers.append(NotifierConfig(name: name, kind: .command(argv: argv, timeout: timeout)))
            case "webhook", "alertmanager":
                r.allowed(m, path: path, keys: kind == "webhook" ? ["name", "kind", "url", "timeout", "headers"]
                                                                    : ["name", "kind", "url", "timeout", "valid_for"])
                let url = r.string(m, "url", path: path, required: true) ?? ""
                if !url.isEmpty, HTTPTarget(url: url) == nil {
                    r.problem(m["url"], path + ".url", "'\(url)' is not an http:// URL with a host")
                }
                let timeout = r.duration(m, "timeout", path: path, positive: true) ?? .seconds(5)
                if kind == "webhook" {
                    var headers: [String: String] = [:]
                    if let hm = r.mapping(m, "headers", path: path) {
                        for (k, v) in hm {
                            guard let key = k.string, let value = v.string else { r.problem(v, path + ".headers", "expected text"); continue }
                            headers[key] = value
                        }
                    }
                    config.notifiers.append(NotifierConfig(name: name, kind: .webhook(url: url, timeout: timeout, headers: headers)))
                } else {
                    let valid = r.duration(m, "valid_for", path: path, positive: true) ?? .hours(2)
                    config.notifiers.append(NotifierConfig(name: name, kind: .alertmanager(url: url, timeout: timeout, validFor: valid)))
                }
            default:
                r.problem(m["kind"], path + ".kind", "'\(kind)' is not log, command, webhook or alertmanager")
            }
        }

        // Contacts: a pager command or a webhook reaches a lead by it. `check` passed a lead with
        // none, or an empty one, and its critical pages went out with no contact (the ops user
        // test). An empty one is refused whatever the notifiers; a missing one where a command
        // or webhook notifier is configured (Alertmanager routes by its own receivers; a log
        // file needs none).
        let reaching = config.notifiers.filter {
            switch $0.kind { case .command, .webhook: return true; default: return false }
        }.map(\.name)
        func checkContacts(_ leads: [Node], _ section: String) {
            for (i, node) in leads.enumerated() {
                guard case .mapping(let m) = node else { continue }
                let path = "\(section)[\(i)]"
                let who = m["name"].flatMap { if case .scalar(let s) = $0 { return s.string } else { return nil } } ?? "this lead"
                if let c = m["contact"] {
                    if case .scalar(let s) = c, s.string.trimmingCharacters(in: .whitespaces).isEmpty {
                        r.problem(c, path + ".contact", "is empty: give how \(who) is reached (a telephone number, an address)")
                    }
                } else if !reaching.isEmpty {
                    r.problem(m["id"] ?? m.first?.key, path + ".contact", "is required: notifier\(reaching.count == 1 ? "" : "s") "
                              + "\(reaching.joined(separator: ", ")) reach\(reaching.count == 1 ? "es" : "") \(who) by it")
                }
            }
        }
        if case .sequence(let leads)? = top["leads"] { checkContacts(Array(leads), "leads") }
        if case .sequence(let leads)? = n["leads"] { checkContacts(Array(leads), "\(p).leads") }

        // routes
        for (i, node) in r.sequence(n, "routes", path: p).enumerated() {
            let path = "\(p).routes[\(i)]"
            guard case .mapping(let m) = node else { r.problem(node, path, "expected a mapping"); continue }
            r.allowed(m, path: path, keys: ["notifier", "units", "severities", "kinds", "rules"])
            guard let notifier = r.string(m, "notifier", path: path, required: true) else { continue }
            if !names.contains(notifier) { r.problem(m["notifier"], path + ".notifier", "'\(notifier)' is not a notifier name") }
            let units = r.strings(m, "units", path: path)
            for u in units where !selectorNames.contains(u) {
                r.problem(m["units"], path + ".units", "'\(u)' is neither a unit code, a unit kind nor SYSTEM")
            }
            let severities = r.severities(m, "severities", path: path)
            var kinds: [NotificationKind] = []
            for k in r.strings(m, "kinds", path: path) {
                if let v = NotificationKind(rawValue: k) { kinds.append(v) } else {
                    r.problem(m["kinds"], path + ".kinds", "'\(k)' is not one of \(NotificationKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
            }
            let rules = r.strings(m, "rules", path: path)
            let ruleIDs = Set(system.rules.map(\.id))
            for id in rules where !ruleIDs.contains(id) { r.problem(m["rules"], path + ".rules", "'\(id)' is not a rule id") }
            config.routes.append(Route(notifier: notifier, units: units, severities: severities, kinds: kinds, rules: rules))
        }

        if !r.problems.isEmpty { throw ConfigError(problems: r.problems) }
        return config
    }

    /// Every problem of a system file, its core sections (`ConfigLoader`) and its
    /// `notifications:` section alike, in file order: what `urgentflow check` prints, and what a
    /// command refuses a file with. The notifications section is checked even when the core
    /// sections have problems (against the configuration as far as it could be read), so that
    /// one `check` names every mistake; not when the document itself is not valid YAML (the
    /// one problem, already named). The configurations are nil when there is any problem.
    public static func check(yaml text: String, file: String) -> (system: SystemConfig?, notifications: NotificationConfig?, problems: [ConfigProblem]) {
        let core = ConfigLoader.read(yaml: text, file: file)
        if core.problems.contains(where: { $0.key == "(document)" }) { return (nil, nil, core.problems) }
        var problems = core.problems
        var notifications: NotificationConfig? = nil
        do { notifications = try load(yaml: text, file: file, system: core.config) } catch { problems += error.problems }
        if problems.isEmpty { return (core.config, notifications, []) }
        return (nil, nil, ConfigLoader.fileOrder(problems))
    }

    /// `mon`, `mon-fri`, `sat-sun`, `fri-mon` (wraps).
    static func dayRange(_ text: String) -> [Weekday]? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 1 { return Weekday(name: parts[0]).map { [$0] } }
        guard parts.count == 2, let a = Weekday(name: parts[0]), let b = Weekday(name: parts[1]) else { return nil }
        var out = [a]
        var d = a
        while d != b { d = Weekday(rawValue: (d.rawValue + 1) % 7)!; out.append(d) }
        return out
    }
}

/// The notification section's own read; the rest come from the core's `YAMLNodeReader`.
extension YAMLNodeReader {
    /// `HH:MM` local wall-clock time, `24:00` allowed as the end of the day. Minutes after midnight.
    mutating func clock(_ m: Node.Mapping, _ key: String, path: String) -> Int? {
        guard let n = m[key] else { problem(m.first?.key, path + "." + key, "is required (HH:MM local time)"); return nil }
        let s = n.string ?? ""
        let parts = s.split(separator: ":")
        guard parts.count == 2, parts[0].count <= 2, parts[1].count == 2, let h = Int(parts[0]), let mi = Int(parts[1]),
              (0...24).contains(h), (0...59).contains(mi), h * 60 + mi <= 1440 else {
            problem(n, path + "." + key, "'\(s)' is not a local time HH:MM (00:00-24:00)")
            return nil
        }
        return h * 60 + mi
    }
}
