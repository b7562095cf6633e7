@testable import FlowCore
import Synchronization

/// A small system for tests: two acute sites, a community unit, 111 and the ambulance service.
func testConfig(rules: [RuleConfig] = [], tick: Duration = .minutes(1)) -> SystemConfig {
    SystemConfig(
        name: "Test System", timeZone: "Europe/London", tick: tick,
        units: [
            UnitConfig(code: "AAA", name: "Alpha Hospital", kind: .acute, beds: 500, weight: 0.6),
            UnitConfig(code: "BBB", name: "Beta Hospital", kind: .acute, beds: 300, weight: 0.4),
            UnitConfig(code: "COM", name: "Community Beds", kind: .community, beds: 100),
            UnitConfig(code: "111", name: "NHS 111", kind: .nhs111),
            UnitConfig(code: "AMB", name: "Ambulance Service", kind: .ambulance),
        ],
        leads: [
            LeadConfig(id: "a-warn", role: "Site manager", name: "Ann", contact: nil, units: ["AAA"], severities: [.warning]),
            LeadConfig(id: "a-crit", role: "Director", name: "Dee", contact: nil, units: ["AAA", "SYSTEM"], severities: [.critical, .warning]),
            LeadConfig(id: "acute", role: "Acute lead", name: "Bo", contact: nil, units: ["acute"], severities: [.warning, .critical]),
        ],
        rules: rules, ingest: IngestLimits())
}

let t0 = RFC3339.parse("2026-01-13T00:00:00Z")!

func at(_ minutes: Int64, from base: EventTime = t0) -> EventTime { base + .minutes(minutes) }

func iso(_ t: EventTime) -> String { RFC3339.format(t) }

let idCounter = Atomic<Int>(0)
func nextID() -> String { "m\(idCounter.add(1, ordering: .relaxed).newValue)" }

func bedLine(_ site: String, _ t: EventTime, open: Int = 100, occupied: Int, extra: String = "") -> String {
    "{\"feed\":\"bed\",\"id\":\"\(nextID())\",\"at\":\"\(iso(t))\",\"site\":\"\(site)\",\"ga_core_open\":\(open),\"ga_core_occupied\":\(occupied)\(extra)}"
}

func ambLine(_ site: String, _ t: EventTime, kind: String, incident: String, extra: String = "") -> String {
    "{\"feed\":\"ambulance\",\"id\":\"\(nextID())\",\"at\":\"\(iso(t))\",\"site\":\"\(site)\",\"kind\":\"\(kind)\",\"incident\":\"\(incident)\"\(extra)}"
}

func line111(_ t: EventTime, offered: Int = 100, answered: Int = 90, within: Int = 80, abandoned: Int = 3,
             amb: Int = 10, ed: Int = 9) -> String {
    "{\"feed\":\"111\",\"id\":\"\(nextID())\",\"at\":\"\(iso(t))\",\"site\":\"111\",\"offered\":\(offered),\"answered\":\(answered),\"answered_60s\":\(within),\"abandoned\":\(abandoned),\"disp_ambulance\":\(amb),\"disp_ed\":\(ed),\"disp_primary_care\":60,\"disp_self_care\":15,\"disp_other\":4}"
}

/// Feeds lines in order and collects every transition (finishing at the end).
func replay(_ config: SystemConfig, _ lines: [String], finish: Bool = true) -> (HeadlessReplay, [AlertTransition]) {
    var r = HeadlessReplay(config: config, sitrep: true)
    var out: [AlertTransition] = []
    for l in lines { out += r.feed(l) }
    if finish { out += r.finish() }
    return (r, out)
}

func occupancyRule(for raise: Duration = .minutes(30), clearFor: Duration = .minutes(60)) -> RuleConfig {
    .threshold(ThresholdRule(id: "occ", metric: .gaOccupancyPct, units: ["acute"], direction: .above,
                             levels: ThresholdLevels(warning: 92, critical: 95, clear: 90, criticalClear: nil),
                             raiseDelay: raise, clearDelay: clearFor))
}
