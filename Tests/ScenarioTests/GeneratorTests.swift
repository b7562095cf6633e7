import Foundation
import FlowCore
import FlowScenarios
import Testing

/// `<package root>/Scenarios`, found from this file's path.
let scenariosDirectory: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()    // ScenarioTests
    .deletingLastPathComponent()    // Tests
    .deletingLastPathComponent()    // package root
    .appendingPathComponent("Scenarios")

let unitCodes: Set<String> = ["RWH", "RWG", "RQW", "HCT", "HPFT", "HUC", "EEAST"]
let feeds: Set<String> = ["bed", "dtoc", "111", "ambulance"]

func lines(_ name: ScenarioName, seed: UInt64 = ScenarioGenerator.defaultSeed) -> [String] {
    var out: [String] = []
    ScenarioGenerator.generate(name, seed: seed) { out.append($0) }
    return out
}

func object(_ line: String) -> [String: Any]? {
    guard let data = line.data(using: .utf8),
          let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
    return o
}

/// Local (Europe/London) wall-clock hour written in an `at` with an offset.
func writtenHour(_ at: String) -> Int? {
    let chars = Array(at)
    guard chars.count >= 19 else { return nil }
    return Int(String(chars[11...12]))
}

@Suite("Scenario generator")
struct GeneratorTests {
    @Test("the same seed gives byte-identical output", arguments: ScenarioName.allCases)
    func deterministic(_ name: ScenarioName) {
        #expect(ScenarioGenerator.text(name) == ScenarioGenerator.text(name))
    }

    @Test("different seeds give different output", arguments: ScenarioName.allCases)
    func seedsDiffer(_ name: ScenarioName) {
        #expect(ScenarioGenerator.text(name, seed: 1) != ScenarioGenerator.text(name, seed: 2))
    }

    /// The checked-in files equal a fresh generation, so they cannot drift from the generator.
    /// With URGENTFLOW_REGENERATE=1 the files are rewritten instead (Scenarios/regenerate.sh).
    @Test("checked-in Scenarios/*.jsonl equal a fresh generation", arguments: ScenarioName.allCases)
    func checkedInFilesMatch(_ name: ScenarioName) throws {
        let url = scenariosDirectory.appendingPathComponent(name.rawValue + ".jsonl")
        let fresh = ScenarioGenerator.text(name)
        if ProcessInfo.processInfo.environment["URGENTFLOW_REGENERATE"] == "1" {
            try fresh.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let stored = try String(contentsOf: url, encoding: .utf8)
        if stored != fresh {
            let a = stored.split(separator: "\n", omittingEmptySubsequences: false)
            let b = fresh.split(separator: "\n", omittingEmptySubsequences: false)
            let i = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
            Issue.record("\(name.rawValue).jsonl differs from the generator at line \(i + 1) (run Scenarios/regenerate.sh)")
        }
        #expect(fresh.utf8.count < 3_000_000)
    }

    @Test("every line is a JSON object with the envelope (except the deliberate bad lines)",
          arguments: ScenarioName.allCases)
    func envelope(_ name: ScenarioName) {
        let bad = Set(ScenarioGenerator.deliberatelyInvalidLines(name).map(\.line))
        var ids: [String: Set<String>] = [:]
        var previous: EventTime?
        var outOfOrder = 0
        for (n, line) in lines(name).enumerated() where !bad.contains(line) {
            guard let o = object(line) else {
                Issue.record("\(name.rawValue) line \(n + 1) is not a JSON object: \(line)")
                continue
            }
            guard let feed = o["feed"] as? String, feeds.contains(feed),
                  let id = o["id"] as? String, !id.isEmpty, id.count <= 128,
                  let at = o["at"] as? String, let t = RFC3339.parse(at),
                  let site = o["site"] as? String, unitCodes.contains(site) else {
                Issue.record("\(name.rawValue) line \(n + 1) lacks a valid envelope: \(line)")
                continue
            }
            #expect(o["v"] == nil)
            #expect(ids[feed, default: []].insert(id).inserted, "duplicate id \(id) in \(name.rawValue)")
            if let p = previous, t < p { outOfOrder += 1 }
            previous = max(previous ?? t, t)
        }
        // Only the feed outage resends late 111 intervals; the rest is in event-time order.
        if name == .feedOutage { #expect(outOfOrder > 0) } else { #expect(outOfOrder == 0) }
    }

    @Test("daily ambulance arrivals per trust on the winter weekday lie in the calibrated range")
    func weekdayArrivals() {
        // Winter 2018/19 sitrep, 10th to 90th centile of daily arrivals per trust.
        let range: [String: ClosedRange<Int>] = ["RWH": 83...108, "RWG": 80...104, "RQW": 53...77]
        var count: [String: Int] = [:]
        for line in lines(.winterWeekday) {
            guard let o = object(line), o["kind"] as? String == "arrived",
                  let at = o["at"] as? String, at.hasPrefix("2026-01-13"), at.hasSuffix("Z"),
                  let site = o["site"] as? String else { continue }
            count[site, default: 0] += 1
        }
        for (site, r) in range {
            #expect(r.contains(count[site] ?? 0), "\(site): \(count[site] ?? 0) arrivals")
        }
    }

    @Test("the clock-change night crosses 01:00-02:00 local twice, with local offsets")
    func clockChange() {
        var bst = 0, gmt = 0, zulu = 0
        var intervals: [EventTime] = []
        for line in lines(.octoberClockChange) {
            guard let o = object(line), let at = o["at"] as? String else { continue }
            if at.hasSuffix("Z") { zulu += 1 }
            if at.hasPrefix("2026-10-25T01:") {
                if at.hasSuffix("+01:00") { bst += 1 }
                if at.hasSuffix("+00:00") { gmt += 1 }
            }
            if o["feed"] as? String == "111", let t = RFC3339.parse(at) { intervals.append(t) }
        }
        #expect(zulu == 0)
        #expect(bst > 0 && gmt > 0)
        // 111 intervals every 15 minutes without a gap or a repeat through the repeated hour.
        #expect(intervals.count >= 4 * 18)
        for (a, b) in zip(intervals, intervals.dropFirst()) { #expect((b - a).millis == 900_000) }
    }

    @Test("the feed outage carries one line of every rejection kind")
    func feedOutageBadLines() {
        let bad = ScenarioGenerator.deliberatelyInvalidLines(.feedOutage)
        let all = Set(lines(.feedOutage))
        for b in bad { #expect(all.contains(b.line)) }
        let reasons = Set(bad.map(\.reason))
        for r in ["malformed", "unknown_feed", "unknown_site", "bad_type", "missing_field", "out_of_range",
                  "duplicate_id", "future_time", "identifiable", "unsupported_version"] {
            #expect(reasons.contains(r), "no line for \(r)")
        }
        // The NHS-number-shaped value really passes the modulus-11 check.
        let digits = "9434765919".compactMap { $0.wholeNumberValue }
        let sum = zip(digits.prefix(9), (2...10).reversed()).reduce(0) { $0 + $1.0 * $1.1 }
        #expect((11 - sum % 11) % 11 == digits[9])
    }

    @Test("the benchmark stream has exactly the requested valid lines")
    func benchmark() {
        var n = 0, bytes = 0
        var feedsSeen: Set<String> = []
        var ids: Set<String> = []
        ScenarioGenerator.generateBenchmark(messages: 30_000, seed: 7) { line in
            n += 1
            bytes += line.utf8.count
            if let o = object(line), let f = o["feed"] as? String, let id = o["id"] as? String,
               let at = o["at"] as? String, RFC3339.parse(at) != nil {
                feedsSeen.insert(f)
                #expect(ids.insert(f + "/" + id).inserted)
            } else {
                Issue.record("bad benchmark line \(line)")
            }
        }
        #expect(n == 30_000)
        #expect(feedsSeen == feeds)
        #expect((90...220).contains(bytes / n))
    }

    /// `generate bench --compress-time`: the benchmark at issue 6's density (2 million messages a
    /// week). The same messages in the same order, every time written moved toward the start by
    /// the factor, and every line still accepted by the engine with the Herts system's rules.
    @Test func compressedBenchmarkIsTheSameMessagesCloserAndAllAccepted() throws {
        var plain: [String] = [], packed: [String] = []
        ScenarioGenerator.generateBenchmark(messages: 8_000, seed: 11) { plain.append($0) }
        ScenarioGenerator.generateBenchmark(messages: 8_000, seed: 11, timeCompression: 250) { packed.append($0) }
        #expect(packed.count == plain.count)
        let times = { (line: String) -> [String: EventTime] in
            var out: [String: EventTime] = [:]
            for (k, v) in object(line) ?? [:] { if let s = v as? String, let t = RFC3339.parse(s) { out[k] = t } }
            return out
        }
        let start = try #require(times(plain[0])["at"])
        for (a, b) in zip(plain, packed) {
            let (ta, tb) = (times(a), times(b))
            #expect(Set(ta.keys) == Set(tb.keys))
            for (k, t) in ta {
                // Whole seconds: the packed time is the plain one's offset over 250, truncated.
                let want = start.millis + (t.millis - start.millis) / 1000 / 250 * 1000
                #expect(tb[k]?.millis == want, "\(k) of \(a)")
            }
            var oa = object(a) ?? [:], ob = object(b) ?? [:]
            for k in ta.keys { oa[k] = nil; ob[k] = nil }
            #expect(NSDictionary(dictionary: oa).isEqual(to: ob), "\(a) against \(b)")
        }
        let span = { (l: [String]) in times(l.last!)["at"]!.millis - times(l[0])["at"]!.millis }
        #expect(span(packed) * 250 <= span(plain) && span(plain) < (span(packed) + 1000) * 250)
        let engine = FlowEngine(config: try ScenarioTimelineTests.config())
        var refused: [String] = []
        for line in packed { if case .rejected(let r) = engine.ingest(line) { refused.append("\(r)") } }
        #expect(refused.isEmpty, "\(refused.prefix(3))")
    }

    @Test("the expected timelines are well formed", arguments: ScenarioName.allCases)
    func expectations(_ name: ScenarioName) throws {
        let url = scenariosDirectory.appendingPathComponent(name.rawValue + ".expect.jsonl")
        let text = try String(contentsOf: url, encoding: .utf8)
        let rules: Set<String> = ["ga_occupancy", "escalation_share", "ga_occupancy_trend", "dtoc_share",
                                  "ed_over_12h", "handover_queue", "handover_longest_wait", "handover_hours_lost",
                                  "handover_queue_trend", "stack_waiting", "nhs111_answered_60s", "nhs111_abandoned",
                                  "nhs111_ed_ambulance_share", "stale_bed", "stale_ambulance", "stale_111",
                                  "stale_dtoc", "stale_ambulance_status", "opel"]
        var count = 0
        for line in text.split(separator: "\n") {
            count += 1
            let o = try #require(object(String(line)), "not JSON: \(line)")
            #expect(rules.contains(o["rule"] as? String ?? ""), "\(line)")
            #expect(unitCodes.union(["SYSTEM"]).contains(o["site"] as? String ?? ""), "\(line)")
            #expect(o["why"] is String, "\(line)")
            if o["never"] as? Bool == true { continue }
            #expect(["pending", "firing", "unknown", "resolved"].contains(o["state"] as? String ?? ""), "\(line)")
            let after = RFC3339.parse(o["after"] as? String ?? "")
            let before = RFC3339.parse(o["before"] as? String ?? "")
            #expect(after != nil && before != nil && after! < before!, "\(line)")
        }
        #expect(count > 0)
    }
}
