import Yams

/// One problem in a configuration file: where (file, line, key path) and why.
public struct ConfigProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var key: String
    public var message: String
    public init(file: String, line: Int?, key: String, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }
    /// `file:line: key: message`; without a line (a missing section or list: the key path says
    /// where) `file: key: message`, where it said `file:?:`.
    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(key): \(message)"
    }
}

public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var problems: [ConfigProblem]
    public init(problems: [ConfigProblem]) { self.problems = problems }
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// Loads a system configuration from YAML text. Every problem found is reported, each with the
/// file, line and key, in file order; a configuration with any problem is refused as a whole.
/// A problem in one unit, lead or rule does not stop the checks of the others, nor of the rest
/// of that entry: only a check that a problem makes meaningless is left out (a rule's levels
/// are still checked when its metric is misspelt; a `critical_after` is not compared with an
/// `expected` that is missing).
public enum ConfigLoader {
    public static func load(yaml text: String, file: String) throws(ConfigError) -> SystemConfig {
        let read = read(yaml: text, file: file)
        if !read.problems.isEmpty { throw ConfigError(problems: read.problems) }
        return read.config
    }

    /// The YAML document as nodes, every scalar's tag left as text (`Resolver.basic`). The
    /// readers here convert values themselves (`Node.int`, `.float`, `.bool`, `.string` read the
    /// scalar's text, not its resolved tag); the default resolver matched each scalar against
    /// seven regular expressions whenever a key was hashed or compared, which was 21 of the 82
    /// million instructions of a headless replay's start (README, "Measured").
    public static func compose(_ text: String) throws -> Node? {
        try Yams.compose(yaml: text, .basic)
    }

    /// The document, and a problem for each key given twice in a mapping. A key given twice
    /// stopped the read at the parser with no line of its own, hid every other problem, and
    /// printed the whole file as its context (the analysts' user test): each later occurrence is
    /// now named at its line, with the first's, and left out (with the block under it) so that
    /// the rest of the file is read and checked. `.failure`: the text is not YAML (or a
    /// duplicate could not be found by its line, as in a flow mapping).
    public static func composeAll(_ text: String, file: String) -> (document: Result<Node?, ConfigProblem>, duplicates: [ConfigProblem]) {
        var text = text
        var duplicates: [ConfigProblem] = []
        while true {
            do {
                return (.success(try compose(text)), duplicates)
            } catch YamlError.duplicatedKeysInMapping(let keys, let context) {
                let key = keys.first ?? ""
                let first = context.mark.line
                guard duplicates.count < 100, let (second, edited) = leavingOut(key, after: first, column: context.mark.column, in: text) else {
                    let problem = ConfigProblem(file: file, line: first, key: key,
                                                message: "given more than once in one mapping (first at line \(first)); a key may be given once")
                    return (.failure(problem), duplicates)
                }
                duplicates.append(ConfigProblem(file: file, line: second, key: key,
                                                message: "given twice in one mapping (first at line \(first)); a key may be given once"))
                text = edited
            } catch {
                var line: Int? = nil
                var message = "\(error)"
                if let y = error as? YamlError {
                    switch y {
                    case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
                        line = mark.line
                        message = "not valid YAML: \(problem)"
                    default: break
                    }
                }
                return (.failure(ConfigProblem(file: file, line: line, key: "(document)", message: message)), duplicates)
            }
        }
    }

    /// The next occurrence of block key `key` after line `first` (1-based) at `column` (1-based:
    /// where the first begins) in the same mapping, and the text with that line and the block
    /// under it made comments (the lines keep their numbers); nil if there is none.
    static func leavingOut(_ key: String, after first: Int, column: Int, in text: String) -> (Int, String)? {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let indent = column - 1
        func startsKey(_ line: String) -> Bool {
            let body = line.dropFirst(indent)
            return [key + ":", "\"" + key + "\":", "'" + key + "':"].contains { body.hasPrefix($0) }
        }
        func indentation(_ line: String) -> Int { line.prefix { $0 == " " }.count }
        var i = first   // the line after the first occurrence (0-based index of line first + 1)
        while i < lines.count {
            let line = lines[i]
            let blank = line.allSatisfy { $0 == " " } || line.drop { $0 == " " }.hasPrefix("#")
            if !blank {
                if indentation(line) < indent { return nil }   // the mapping has ended
                if indentation(line) == indent, startsKey(line) {
                    lines[i] = "#" + line
                    var j = i + 1
                    while j < lines.count, lines[j].allSatisfy({ $0 == " " }) || indentation(lines[j]) > indent {
                        if !lines[j].allSatisfy({ $0 == " " }) { lines[j] = "#" + lines[j] }
                        j += 1
                    }
                    return (i + 1, lines.joined(separator: "\n"))
                }
            }
            i += 1
        }
        return nil
    }

    /// The configuration as far as it could be read, and every problem (in file order; empty
    /// when the configuration is good). With problems the configuration is partial, stand-ins
    /// where a value was wrong: only to check the file's other sections against (`check` reads
    /// the `notifications:` section with it, so that every problem of the file is named at
    /// once), never to run.
    public static func read(yaml text: String, file: String) -> (config: SystemConfig, problems: [ConfigProblem]) {
        var r = YAMLNodeReader(file: file)
        let empty = SystemConfig(name: "", timeZone: "Europe/London", units: [])
        let (composed, duplicates) = composeAll(text, file: file)
        let root: Node?
        switch composed {
        case .success(let node): root = node
        case .failure(let problem): return (empty, fileOrder(duplicates + [problem]))
        }
        r.problems += duplicates
        guard let root, case .mapping(let top) = root else {
            return (empty, [ConfigProblem(file: file, line: 1, key: "(document)", message: "expected a mapping with system, units, leads and rules")])
        }
        r.allowed(top, path: "", keys: ["system", "units", "leads", "rules", "ingest", "notifications"])
        var config = SystemConfig(name: "", timeZone: "Europe/London", units: [])

        // system
        if let sys = r.mapping(top, "system", path: "", required: true) {
            r.allowed(sys, path: "system", keys: ["name", "timezone", "tick"])
            config.name = r.string(sys, "name", path: "system", required: true) ?? ""
            if let tz = r.string(sys, "timezone", path: "system", required: false) {
                if LocalCalendar(identifier: tz) == nil {
                    r.problem(sys["timezone"], "system.timezone", "'\(tz)' is not a known time zone")
                } else {
                    config.timeZone = tz
                }
            }
            if let t = r.duration(sys, "tick", path: "system") {
                if t.millis < 1000 || t.millis > 3_600_000 {
                    r.problem(sys["tick"], "system.tick", "must be between 1s and 1h")
                } else {
                    config.tick = t
                }
            }
        }

        // units
        var codes = Set<String>()
        for (i, node) in r.sequence(top, "units", path: "", required: true).enumerated() {
            let path = "units[\(i)]"
            guard case .mapping(let m) = node else { r.problem(node, path, "expected a mapping"); continue }
            r.allowed(m, path: path, keys: ["code", "name", "kind", "beds", "weight"])
            // Without a code the unit's other fields are still checked; it is not kept.
            let codeRead = r.string(m, "code", path: path, required: true)
            let code = codeRead ?? ""
            if codeRead != nil, code == systemSiteCode || !code.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) || code.count > 16 {
                r.problem(m["code"], path + ".code", "'\(code)' must be 1-16 letters, digits, '-' or '_' and not SYSTEM")
            }
            if codeRead != nil, !codes.insert(code).inserted { r.problem(m["code"], path + ".code", "'\(code)' is used by another unit") }
            let name = r.string(m, "name", path: path, required: true) ?? code
            let kindText = r.string(m, "kind", path: path, required: true) ?? ""
            let kind = UnitKind(rawValue: kindText)
            if kind == nil && !kindText.isEmpty {
                r.problem(m["kind"], path + ".kind", "'\(kindText)' is not one of \(UnitKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let beds = r.int(m, "beds", path: path, range: 0...100_000)
            let weight = r.double(m, "weight", path: path, range: 0...1)
            guard codeRead != nil else { continue }
            config.units.append(UnitConfig(code: code, name: name, kind: kind ?? .acute, beds: beds, weight: weight))
        }
        if config.units.isEmpty { r.problem(top["units"], "units", "a system needs at least one unit") }
        let weights = config.units.compactMap(\.weight)
        if !weights.isEmpty, abs(weights.reduce(0, +) - 1) > 0.001 {
            r.problem(top["units"], "units", "weights sum to \((weights.reduce(0, +) * 1e6).rounded() / 1e6); they must sum to 1")
        }
        let selectorNames = Set(config.units.map(\.code) + UnitKind.allCases.map(\.rawValue) + [systemSiteCode])

        // leads
        var leadIDs = Set<String>()
        for (i, node) in r.sequence(top, "leads", path: "", required: false).enumerated() {
            let path = "leads[\(i)]"
            guard case .mapping(let m) = node else { r.problem(node, path, "expected a mapping"); continue }
            r.allowed(m, path: path, keys: ["id", "role", "name", "contact", "units", "severities"])
            let idRead = r.string(m, "id", path: path, required: true)
            let id = idRead ?? ""
            if idRead != nil, !leadIDs.insert(id).inserted { r.problem(m["id"], path + ".id", "'\(id)' is used by another lead") }
            let role = r.string(m, "role", path: path, required: true) ?? ""
            let name = r.string(m, "name", path: path, required: true) ?? ""
            let contact = r.string(m, "contact", path: path, required: false)
            let units = r.selector(m, "units", path: path, known: selectorNames, required: true)
            var severities: [Severity] = Severity.allCases
            if m["severities"] != nil {
                severities = r.strings(m, "severities", path: path).compactMap { s in
                    if let v = Severity(rawValue: s) { return v }
                    r.problem(m["severities"], path + ".severities", "'\(s)' is not warning or critical")
                    return nil
                }
            }
            guard idRead != nil else { continue }
            config.leads.append(LeadConfig(id: id, role: role, name: name, contact: contact, units: units, severities: severities))
        }

        // rules
        var ruleIDs: [String: Int?] = [:]   // each id, and the line it was first given at
        for (i, node) in r.sequence(top, "rules", path: "", required: false).enumerated() {
            let path = "rules[\(i)]"
            guard case .mapping(let m) = node else { r.problem(node, path, "expected a mapping"); continue }
            // A rule with a problem is still read to its end, every other field checked; where a
            // value is wrong a stand-in takes its place (the configuration is refused anyway).
            let idRead = r.string(m, "id", path: path, required: true)
            let id = idRead ?? ""
            if idRead != nil {
                if let first = ruleIDs[id] {
                    r.problem(m["id"], path + ".id", "'\(id)' is used by another rule" + (first.map { " (at line \($0))" } ?? ""))
                } else {
                    ruleIDs[id] = m["id"]?.mark?.line
                }
            }
            let kindRead = r.string(m, "kind", path: path, required: true)
            let kind = kindRead ?? ""
            let units = r.selector(m, "units", path: path, known: selectorNames, required: true)
            let source = r.string(m, "source", path: path, required: false)
            switch kind {
            case "threshold":
                r.allowed(m, path: path, keys: ["id", "kind", "units", "source", "metric", "direction", "warning", "critical",
                                                 "clear", "critical_clear", "for", "clear_for", "overrides"])
                let metric = r.metric(m, "metric", path: path) ?? Self.standIn
                let direction = r.direction(m, path: path)
                let levels = r.levels(m, path: path, direction: direction)
                var overrides: [String: ThresholdLevels] = [:]
                if let om = r.mapping(m, "overrides", path: path, required: false) {
                    for (k, v) in om {
                        let code = k.string ?? ""
                        let opath = path + ".overrides." + code
                        if config.unitIndex(code) == nil { r.problem(k, opath, "'\(code)' is not a unit code") }
                        guard case .mapping(let lm) = v else { r.problem(v, opath, "expected a mapping of levels"); continue }
                        r.allowed(lm, path: opath, keys: ["warning", "critical", "clear", "critical_clear"])
                        let o = r.levels(lm, path: opath, direction: direction, requireOne: false)
                        overrides[code] = o
                        // As the site will have them: an override of one level can cross the
                        // rule's other (`warning: 98` under the rule's `critical: 95`), which
                        // the override's own levels do not show.
                        r.checkLevels(levels.overridden(by: o), lm.first?.key, path: opath, direction: direction, at: { lm[$0] },
                                      inherited: { lm[$0] == nil })
                    }
                }
                let rule = ThresholdRule(id: id, metric: metric, units: units, direction: direction, levels: levels,
                                         overrides: overrides, raiseDelay: r.duration(m, "for", path: path) ?? .zero,
                                         clearDelay: r.duration(m, "clear_for", path: path) ?? .zero, source: source)
                config.rules.append(.threshold(rule))
            case "stale":
                r.allowed(m, path: path, keys: ["id", "kind", "units", "source", "feed", "expected", "critical_after"])
                let feedText = r.string(m, "feed", path: path, required: true) ?? ""
                let feed = FeedKind(rawValue: feedText)
                if feed == nil, !feedText.isEmpty { r.problem(m["feed"], path + ".feed", "'\(feedText)' is not bed, dtoc, 111 or ambulance") }
                let expected = r.duration(m, "expected", path: path, required: true)
                let critical = r.duration(m, "critical_after", path: path)
                if let c = critical, let expected, c <= expected {
                    r.problem(m["critical_after"], path + ".critical_after", "must be longer than expected (\(expected))")
                }
                config.rules.append(.stale(StaleRule(id: id, feed: feed ?? .bed, units: units, expected: expected ?? .hours(1),
                                                     criticalAfter: critical)))
            case "trend":
                r.allowed(m, path: path, keys: ["id", "kind", "units", "source", "metric", "direction", "threshold", "window", "horizon", "severity",
                                                 "for", "clear_for"])
                let metric = r.metric(m, "metric", path: path) ?? Self.standIn
                let direction = r.direction(m, path: path)
                let threshold = r.double(m, "threshold", path: path, required: true)
                let window = r.duration(m, "window", path: path, required: true)
                let horizon = r.duration(m, "horizon", path: path, required: true)
                if let window, window < .minutes(15) { r.problem(m["window"], path + ".window", "must be at least 15m to fit a trend") }
                var severity = Severity.warning
                if let s = r.string(m, "severity", path: path, required: false) {
                    if let v = Severity(rawValue: s) { severity = v } else { r.problem(m["severity"], path + ".severity", "'\(s)' is not warning or critical") }
                }
                config.rules.append(.trend(TrendRule(id: id, metric: metric, units: units, direction: direction, threshold: threshold ?? 0,
                                                     window: window ?? .hours(1), horizon: horizon ?? .hours(1), severity: severity,
                                                     raiseDelay: r.duration(m, "for", path: path) ?? .minutes(10),
                                                     clearDelay: r.duration(m, "clear_for", path: path) ?? .minutes(30),
                                                     source: source)))
            case "score":
                r.allowed(m, path: path, keys: ["id", "kind", "units", "source", "parameters", "levels", "warning_level",
                                                 "critical_level", "for", "clear_for", "min_known_share"])
                var params: [ScoreRule.Parameter] = []
                // Missing lists are reported at the rule's first key, with its line.
                if m["parameters"] == nil { r.problem(m.first?.key, path + ".parameters", "is required") }
                for (j, pn) in r.sequence(m, "parameters", path: path).enumerated() {
                    let ppath = path + ".parameters[\(j)]"
                    guard case .mapping(let pm) = pn else { r.problem(pn, ppath, "expected a mapping"); continue }
                    r.allowed(pm, path: ppath, keys: ["metric", "direction", "points"])
                    let metric = r.metric(pm, "metric", path: ppath) ?? Self.standIn
                    let direction = r.direction(pm, path: ppath)
                    var bands: [(bound: Double, points: Double)] = []
                    for (k, bn) in r.sequence(pm, "points", path: ppath, required: true).enumerated() {
                        guard case .sequence(let pair) = bn, pair.count == 2, let b = pair[0].float ?? pair[0].int.map(Double.init),
                              let pts = pair[1].float ?? pair[1].int.map(Double.init) else {
                            r.problem(bn, ppath + ".points[\(k)]", "expected [bound, points]")
                            continue
                        }
                        bands.append((b, pts))
                    }
                    params.append(ScoreRule.Parameter(metric: metric, direction: direction, bands: bands))
                }
                var levels: [Double] = []
                if m["levels"] == nil { r.problem(m.first?.key, path + ".levels", "is required") }
                for (k, ln) in r.sequence(m, "levels", path: path).enumerated() {
                    guard let v = ln.float ?? ln.int.map(Double.init) else { r.problem(ln, path + ".levels[\(k)]", "must be a number"); continue }
                    levels.append(v)
                }
                if m["levels"] != nil, levels.count != 4 || levels != levels.sorted() {
                    r.problem(m["levels"], path + ".levels", "must be four ascending score bounds for levels 1-4")
                }
                let warn = r.int(m, "warning_level", path: path, range: 1...4) ?? 3
                let crit = r.int(m, "critical_level", path: path, range: 1...4) ?? 4
                if crit < warn { r.problem(m["critical_level"], path + ".critical_level", "must not be below warning_level") }
                let share = r.double(m, "min_known_share", path: path, range: 0...1) ?? 0.5
                config.rules.append(.score(ScoreRule(id: id, units: units, parameters: params, levels: levels, warningLevel: warn,
                                                     criticalLevel: crit, raiseDelay: r.duration(m, "for", path: path) ?? .zero,
                                                     clearDelay: r.duration(m, "clear_for", path: path) ?? .zero,
                                                     minKnownShare: share, source: source)))
            default:
                // A missing kind was reported as required; the rule's keys depend on its kind.
                if kindRead != nil { r.problem(m["kind"], path + ".kind", "'\(kind)' is not threshold, stale, trend or score") }
            }
        }

        if let ing = r.mapping(top, "ingest", path: "", required: false) {
            r.allowed(ing, path: "ingest", keys: ["max_future_skew", "max_future_skew_replay", "max_lateness", "dedup_window", "dedup_capacity"])
            if let d = r.duration(ing, "max_future_skew", path: "ingest") { config.ingest.maxFutureSkewLive = d }
            if let d = r.duration(ing, "max_future_skew_replay", path: "ingest") { config.ingest.maxFutureSkewReplay = d }
            if let d = r.duration(ing, "max_lateness", path: "ingest") { config.ingest.maxLateness = d }
            if let d = r.duration(ing, "dedup_window", path: "ingest") { config.ingest.dedupWindow = d }
            if let n = r.int(ing, "dedup_capacity", path: "ingest", range: 1_000...5_000_000) { config.ingest.dedupCapacity = n }
        }

        // The acknowledgement expiry of the `notifications:` section (the rest of it is
        // FlowNotify's, `NotifyConfigLoader`; its policy reckons expiries from this value,
        // `SystemConfig.ackExpires`): the alert state shows an acknowledgement only until it
        // expires, as the notifications do.
        if case .mapping(let n)? = top["notifications"], let e = n["acknowledgement_expiry"] {
            config.ackExpiry = e.string == "never" ? nil
                : r.duration(n, "acknowledgement_expiry", path: "notifications", positive: true)
        }

        return (config, fileOrder(r.problems))
    }

    /// The metric a rule with a wrong one is read with (the configuration is refused anyway).
    static let standIn = MetricKey.allCases[0]

    /// Problems in the order of their lines in the file (a stable sort: the problems of one line
    /// keep the order they were found in). Problems without a line (a required section missing
    /// from the document) come first.
    public static func fileOrder(_ problems: [ConfigProblem]) -> [ConfigProblem] {
        problems.enumerated().sorted { a, b in
            let la = a.element.line ?? 0, lb = b.element.line ?? 0
            return la != lb ? la < lb : a.offset < b.offset
        }.map(\.element)
    }
}

/// Typed reads from a YAML node tree that record problems (file, line, key path) instead of
/// stopping at the first. Shared by `ConfigLoader` and the notification loader in FlowNotify;
/// reads particular to one file section live as extensions next to their loader.
public struct YAMLNodeReader {
    public let file: String
    public var problems: [ConfigProblem] = []

    public init(file: String) { self.file = file }

    public mutating func problem(_ node: Node?, _ key: String, _ message: String) {
        problems.append(ConfigProblem(file: file, line: node?.mark?.line, key: key, message: message))
    }

    /// `path.key`, or `key` alone at the top of the document (empty path).
    private func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    public mutating func allowed(_ m: Node.Mapping, path: String, keys: Set<String>) {
        for (k, _) in m {
            let name = k.string ?? "?"
            if !keys.contains(name) {
                problem(k, join(path, name), "unknown key (expected one of: \(keys.sorted().joined(separator: ", ")))")
            }
        }
    }

    public mutating func mapping(_ m: Node.Mapping, _ key: String, path: String, required: Bool = false) -> Node.Mapping? {
        guard let n = m[key] else {
            if required { problem(nil, join(path, key), path.isEmpty ? "is required: the file has no \(key): section" : "is required") }
            return nil
        }
        guard case .mapping(let v) = n else { problem(n, join(path, key), "expected a mapping"); return nil }
        return v
    }

    /// A missing required list is reported without a line (the key path says where).
    public mutating func sequence(_ m: Node.Mapping, _ key: String, path: String, required: Bool = false) -> [Node] {
        guard let n = m[key] else {
            if required { problem(nil, join(path, key), path.isEmpty ? "is required: the file has no \(key): section" : "is required") }
            return []
        }
        guard case .sequence(let s) = n else { problem(n, join(path, key), "expected a list"); return [] }
        return Array(s)
    }

    public mutating func string(_ m: Node.Mapping, _ key: String, path: String, required: Bool) -> String? {
        guard let n = m[key] else {
            if required { problem(m.first?.key, join(path, key), "is required") }
            return nil
        }
        guard case .scalar(let s) = n else { problem(n, join(path, key), "expected a text value"); return nil }
        return s.string
    }

    /// One text value or a list of them; a missing key gives an empty list.
    public mutating func strings(_ m: Node.Mapping, _ key: String, path: String) -> [String] {
        guard let n = m[key] else { return [] }
        switch n {
        case .scalar(let s): return [s.string]
        case .sequence(let seq):
            return seq.compactMap { item in
                guard case .scalar(let s) = item else { problem(item, join(path, key), "expected a list of text values"); return nil }
                return s.string
            }
        default:
            problem(n, join(path, key), "expected a list")
            return []
        }
    }

    /// `warning`, `critical` or a list of them; unknown names are reported and dropped.
    public mutating func severities(_ m: Node.Mapping, _ key: String, path: String) -> [Severity] {
        strings(m, key, path: path).compactMap { s in
            if let v = Severity(rawValue: s) { return v }
            problem(m[key], join(path, key), "'\(s)' is not warning or critical")
            return nil
        }
    }

    public mutating func int(_ m: Node.Mapping, _ key: String, path: String, range: ClosedRange<Int>) -> Int? {
        guard let n = m[key] else { return nil }
        guard let v = n.int else { problem(n, join(path, key), "must be a whole number"); return nil }
        guard range.contains(v) else { problem(n, join(path, key), "\(v) is outside \(range.lowerBound)-\(range.upperBound)"); return nil }
        return v
    }

    public mutating func double(_ m: Node.Mapping, _ key: String, path: String, range: ClosedRange<Double>? = nil, required: Bool = false) -> Double? {
        guard let n = m[key] else {
            if required { problem(m.first?.key, join(path, key), "is required") }
            return nil
        }
        guard let v = n.int.map(Double.init) ?? n.float, v.isFinite else { problem(n, join(path, key), "must be a number"); return nil }
        if let range, !range.contains(v) { problem(n, join(path, key), "\(v) is outside \(range.lowerBound)-\(range.upperBound)"); return nil }
        return v
    }

    /// `positive`: zero is refused too ("must be longer than 0s").
    public mutating func duration(_ m: Node.Mapping, _ key: String, path: String, required: Bool = false, positive: Bool = false) -> Duration? {
        guard let n = m[key] else {
            if required { problem(m.first?.key, join(path, key), "is required (a duration like 30m, 2h)") }
            return nil
        }
        guard let s = n.string, let d = Duration.parse(s) else {
            problem(n, join(path, key), "'\(n.string ?? "?")' is not a duration (like 90s, 15m, 2h, 1h30m)")
            return nil
        }
        if positive && d.millis <= 0 { problem(n, join(path, key), "must be longer than 0s"); return nil }
        return d
    }
}

/// Reads particular to the system file's units, leads and rules.
extension YAMLNodeReader {
    mutating func selector(_ m: Node.Mapping, _ key: String, path: String, known: Set<String>, required: Bool) -> [String] {
        if m[key] == nil {
            if required { problem(m.first?.key, join(path, key), "is required (unit codes or kinds)") }
            return []
        }
        let names = strings(m, key, path: path)
        for n in names where !known.contains(n) {
            problem(m[key], join(path, key), "'\(n)' is neither a unit code nor a unit kind")
        }
        return names
    }

    mutating func metric(_ m: Node.Mapping, _ key: String, path: String) -> MetricKey? {
        guard let s = string(m, key, path: path, required: true) else { return nil }
        guard let k = MetricKey(rawValue: s) else {
            problem(m[key], join(path, key), "'\(s)' is not a metric (see docs/configuration.md)")
            return nil
        }
        return k
    }

    mutating func direction(_ m: Node.Mapping, path: String) -> Direction {
        guard let s = string(m, "direction", path: path, required: false) else { return .above }
        guard let d = Direction(rawValue: s) else {
            problem(m["direction"], join(path, "direction"), "'\(s)' is not above or below")
            return .above
        }
        return d
    }

    mutating func levels(_ m: Node.Mapping, path: String, direction: Direction, requireOne: Bool = true) -> ThresholdLevels {
        let l = ThresholdLevels(warning: double(m, "warning", path: path), critical: double(m, "critical", path: path),
                                clear: double(m, "clear", path: path), criticalClear: double(m, "critical_clear", path: path))
        if requireOne, l.warning == nil, l.critical == nil {
            problem(m.first?.key, join(path, "warning"), "a threshold rule needs a warning or a critical level")
        }
        checkLevels(l, nil, path: path, direction: direction, at: { m[$0] })
        return l
    }

    /// The levels' order: critical beyond warning, clear not beyond the warning level. Each
    /// problem at the node `at` gives for the level it names, else at `fallback`. `inherited`:
    /// a level that is not the node's own (an override's levels merged with its rule's), said
    /// as "the rule's"; a problem between the node's own levels alone is not said here (the
    /// override's own check says it).
    mutating func checkLevels(_ l: ThresholdLevels, _ fallback: Node?, path: String, direction: Direction,
                              at node: (String) -> Node?, inherited: ((String) -> Bool)? = nil) {
        func own(_ key: String) -> String { inherited?(key) == true ? " (the rule's)" : "" }
        func at(_ key: String) -> Node? { node(key) ?? fallback }
        /// Whether a problem between `keys` is said here: always, or, of merged levels, where
        /// some are the rule's and some the node's own.
        func byMerge(_ keys: [String]) -> Bool {
            guard let inherited else { return true }
            return keys.contains(where: inherited) && !keys.allSatisfy(inherited)
        }
        if let w = l.warning, let c = l.critical, direction.beyond(w, c), w != c, byMerge(["warning", "critical"]) {
            problem(at("critical"), join(path, "critical"),
                    "critical \(c)\(own("critical")) must be further \(direction.rawValue) than warning \(w)\(own("warning"))")
        }
        let warningKey = l.warning != nil ? "warning" : "critical"
        if let w = l.warning ?? l.critical, let cl = l.clear, direction.beyond(cl, w), cl != w, byMerge(["clear", warningKey]) {
            problem(at("clear"), join(path, "clear"),
                    "clear \(cl)\(own("clear")) must not be beyond the warning level \(w)\(own(warningKey)) (hysteresis goes the other way)")
        }
    }
}
