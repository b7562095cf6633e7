/// The recorded scenarios of the Hertfordshire and West Essex system (see `Scenarios/README.md`
/// for each story, its calibration and its expected alert timeline).
public enum ScenarioName: String, CaseIterable, Sendable {
    case winterWeekday = "winter-weekday"
    case boxingDaySurge = "boxing-day-surge"
    case handoverCrisis = "handover-crisis"
    case feedOutage = "feed-outage"
    case octoberClockChange = "october-clock-change"
}

public enum ScenarioGenerator {
    /// The seed the checked-in `Scenarios/*.jsonl` files were generated with.
    public static let defaultSeed: UInt64 = 20_260_113

    /// Writes the scenario, one JSON line per call (no trailing newline), in emission order:
    /// event-time order except where the scenario deliberately injects bad or late lines.
    /// The same name and seed give byte-identical output on every run and machine.
    public static func generate(_ name: ScenarioName, seed: UInt64 = defaultSeed, emit: (String) -> Void) {
        let sim = Simulation(profile: profile(name), seed: seed ^ fnv1a(name.rawValue))
        sim.run(emit)
    }

    /// The whole scenario as one string with a newline after every line (the file format).
    public static func text(_ name: ScenarioName, seed: UInt64 = defaultSeed) -> String {
        var out = ""
        generate(name, seed: seed) { line in
            out += line
            out += "\n"
        }
        return out
    }

    /// A mixed-feed scenario of exactly `messages` valid lines (all four feeds, all seven
    /// units), continuous over as many days as needed from 2024-01-01, for the replay benchmark.
    /// Streams: memory does not grow with `messages`. About 1,400 lines a simulated day.
    public static func generateBenchmark(messages: Int, seed: UInt64 = defaultSeed, timeCompression: Int = 1,
                                         emit: (String) -> Void) {
        guard messages > 0 else { return }
        var p = Profile(start: UKTime.utc(2024, 1, 1), end: Int64.max / 4)
        // A gentle seasonal cycle so the model sees ordinary variation (winter busier).
        let t0 = p.start
        let season: @Sendable (Int64) -> Double = { t in
            let dayOfYear = Double((t - t0) / 86_400 % 365)
            let x = dayOfYear < 182.5 ? dayOfYear / 182.5 : (365 - dayOfYear) / 182.5  // 0 in Jan, 1 in Jul
            return 1 - x
        }
        p.arrivalsPerDay = { s, t in Units.beds[s].arrivalsPerDay * (0.92 + 0.12 * season(t)) }
        p.occupancy = { s, t in [0.875, 0.88, 0.89, 0.92, 0.95][s] + 0.03 * season(t) }
        let sim = Simulation(profile: p, seed: seed ^ fnv1a("benchmark"))
        sim.limit = messages
        sim.timeCompression = Int64(max(1, timeCompression))
        sim.run(emit)
    }

    /// The deliberately invalid lines of a scenario (only `feed-outage` has any), each with the
    /// rejection reason the feed contract gives it.
    public static func deliberatelyInvalidLines(_ name: ScenarioName) -> [(line: String, reason: String)] {
        name == .feedOutage ? FeedOutage.badLines : []
    }

    static func profile(_ name: ScenarioName) -> Profile {
        switch name {
        case .winterWeekday: return WinterWeekday.profile
        case .boxingDaySurge: return BoxingDaySurge.profile
        case .handoverCrisis: return HandoverCrisis.profile
        case .feedOutage: return FeedOutage.profile
        case .octoberClockChange: return OctoberClockChange.profile
        }
    }
}

/// Hours since a reference instant.
@inline(__always) func hoursSince(_ t: Int64, _ ref: Int64) -> Double { Double(t - ref) / 3600 }

// MARK: - winter-weekday

/// Tuesday 13 January 2026: an ordinary winter weekday (22:00 the evening before to 02:00 after).
enum WinterWeekday {
    static var profile: Profile {
        var p = Profile(start: UKTime.utc(2026, 1, 12, 22), end: UKTime.utc(2026, 1, 14, 2))
        p.arrivalsPerDay = { s, _ in [97, 90, 66][s] }
        p.occupancy = { s, _ in [0.897, 0.898, 0.912, 0.935, 0.955][s] }
        p.declaredOpel = { s, t in UKTime.localHour(t) >= 10 && UKTime.localHour(t) < 20 && s != 2 ? 2 : 1 }
        return p
    }
}

// MARK: - boxing-day-surge

/// 26 December 2025 to the end of 2 January 2026: a post-Christmas surge with social care closed.
enum BoxingDaySurge {
    static let day0 = UKTime.utc(2025, 12, 26)
    /// System pressure 0...1 by hours since 26 Dec 00:00.
    static let pressure = Curve([(0, 0.15), (12, 0.3), (30, 0.6), (46, 0.9), (58, 1.0), (86, 1.0),
                                 (108, 0.8), (126, 0.65), (146, 0.75), (156, 0.5), (168, 0.25),
                                 (180, 0.08), (192, 0.0)])
    /// Social care closure 0...1 (bank holidays and the weekend between).
    static let social = Curve([(0, 0.2), (24, 0.6), (48, 1.0), (140, 1.0), (160, 0.6), (192, 0.2)])

    static var profile: Profile {
        var p = Profile(start: day0, end: UKTime.utc(2026, 1, 3))
        p.localFeeds = [FeedKind.bed.rawValue, FeedKind.dtoc.rawValue, FeedKind.nhs111.rawValue,
                        FeedKind.ambulance.rawValue]
        let P: @Sendable (Int64, Double) -> Double = { t, lead in pressure(hoursSince(t, day0) + lead) }
        p.arrivalsPerDay = { s, t in [95.0, 92, 64][s] * (1 + 0.2 * P(t, 0)) }
        p.handoverPerHour = { s, t in
            let x = P(t, 0)
            return [14.0, 14, 10][s] * (1 - [0.56, 0.54, 0.5][s] * x * x)
        }
        p.slowShare = { _, t in 0.075 + 0.06 * P(t, 0) }
        p.occupancy = { s, t in
            let x = P(t, -12)
            switch s {
            case 0: return 0.888 + 0.15 * x
            case 1: return 0.89 + 0.155 * x
            case 2: return 0.905 + 0.14 * x
            case 3: return 0.94 + 0.03 * x
            default: return 0.955 + 0.02 * x
            }
        }
        p.closed = { s, t in
            // Norovirus closes a ward at Watford for three days from the 28th.
            let h = hoursSince(t, day0)
            return (s == 1 && h >= 50 && h < 122) ? 24 : 0
        }
        p.dtocShare = { s, t in 0.1 + 0.055 * social(hoursSince(t, day0)) + (s == 1 ? 0.022 : 0) }
        p.socialPace = { t in 1 - 0.75 * social(hoursSince(t, day0)) }
        p.edStress = { s, t in [0.75, 0.7, 0.6][s] * P(t, 0) }
        p.declaredOpel = { _, t in
            let x = P(t, -2)
            return x > 0.85 ? 4 : x > 0.5 ? 3 : 2
        }
        p.calls111PerDay = { t in (Profile.isWeekendOrHoliday(t) ? 4200 : 3000) * (1 + 0.2 * P(t, 4)) }
        p.urgentShare = { t in 0.19 + 0.13 * P(t, 4) }
        p.answered60 = { t in 0.83 - 0.27 * P(t, 2) }
        p.abandonRate = { t in 0.02 + 0.05 * P(t, 2) }
        p.stackLoad = { t in 1 + 0.9 * P(t, 0) }
        return p
    }
}

// MARK: - handover-crisis

/// Tuesday 20 January 2026: Lister's handovers collapse from mid-morning; EEAST diverts and it
/// spreads to Watford and Harlow in the afternoon; recovery overnight.
enum HandoverCrisis {
    static let day0 = UKTime.utc(2026, 1, 20)
    static let capacity = [
        Curve([(9.5, 14), (10.5, 2.0), (13, 2.0), (14, 3.6), (18.5, 3.6), (19.5, 7), (20.5, 14)]),
        Curve([(13.5, 14), (14.5, 3.5), (18.5, 3.5), (19.5, 8), (21, 14)]),
        Curve([(14, 10), (15, 3.0), (18.5, 3.0), (19.5, 7), (21, 10)]),
    ]
    static let diversion = [
        Curve([(13, 1), (13.5, 0.55), (20, 0.55), (21, 1)]),
        Curve([(13, 1), (14, 1.3), (20, 1.3), (21, 1)]),
        Curve([(13, 1), (14, 1.25), (20, 1.25), (21, 1)]),
    ]
    static let stress = [
        Curve([(8, 0.15), (11, 0.6), (16, 0.9), (22, 0.6), (32, 0.25)]),
        Curve([(12, 0.1), (16, 0.6), (20, 0.7), (32, 0.25)]),
        Curve([(13, 0.1), (17, 0.55), (21, 0.6), (32, 0.25)]),
    ]

    static var profile: Profile {
        var p = Profile(start: UKTime.utc(2026, 1, 19, 22), end: UKTime.utc(2026, 1, 21, 8))
        p.localFeeds = [FeedKind.bed.rawValue, FeedKind.dtoc.rawValue]
        p.arrivalsPerDay = { s, t in [104.0, 98, 70][s] * diversion[s](hoursSince(t, day0)) }
        p.handoverPerHour = { s, t in capacity[s](hoursSince(t, day0)) }
        p.occupancy = { s, _ in [0.93, 0.898, 0.92, 0.94, 0.96][s] }
        p.dtocShare = { _, _ in 0.106 }
        p.edStress = { s, t in stress[s](hoursSince(t, day0)) }
        p.declaredOpel = { s, t in
            let h = hoursSince(t, day0)
            let (three, four) = [(11.0, 14.0), (15.0, 17.0), (16.0, 99.0)][s]
            return h >= four && h < 24 ? 4 : h >= three && h < 26 ? 3 : 2
        }
        p.stackLoad = { t in
            let h = hoursSince(t, day0)
            return h >= 8 && h < 24 ? 1.25 : 1.0
        }
        p.urgentShare = { _ in 0.2 }
        return p
    }
}

// MARK: - feed-outage

/// Thursday 5 February 2026, an ordinary day with a Watford bed-feed outage (09:00-14:00), a
/// 111 outage (13:15-14:45, the missing intervals resent late) and a burst of bad lines at 11:30.
enum FeedOutage {
    static let day0 = UKTime.utc(2026, 2, 5)

    static var profile: Profile {
        var p = Profile(start: UKTime.utc(2026, 2, 4, 22), end: UKTime.utc(2026, 2, 6, 2))
        p.localFeeds = [FeedKind.bed.rawValue]
        p.arrivalsPerDay = { s, _ in [94, 91, 63][s] }
        p.occupancy = { s, _ in [0.897, 0.898, 0.912, 0.935, 0.955][s] }
        p.silent = { feed, unit, t in
            let h = hoursSince(t, day0)
            switch (feed, unit) {
            case (.bed, 1): return h > 9 && h < 14          // last 09:00, back 14:00
            case (.nhs111, 5): return h > 13.25 && h < 14.75 // last 13:15, back 14:45
            default: return false
            }
        }
        p.resend111 = true
        p.injections = [(day0 + 11 * 3600 + 30 * 60, badLines.map(\.line))]
        return p
    }

    /// 999 434 765 919 style test numbers are avoided: this one passes the modulus-11 check.
    static let validNHSNumber = "9434765919"

    static let badLines: [(line: String, reason: String)] = [
        (#"{"feed":"ambulance","id":"EEAST-bad-1","at":"2026-02-05T11:30:00Z","site":"RWH","kind":"arrived",,"incident":"inc-bad-1"}"#, "malformed"),
        (#"{"feed":"111","id":"HUC-111-202602051130","at":"2026-02-05T11:30:00Z","site":"HUC","minutes":15,"offe"#, "malformed"),
        (#"{"feed":"beds","id":"RWH-beds-202602051130","at":"2026-02-05T11:30:00Z","site":"RWH","ga_core_open":694,"ga_core_occupied":620}"#, "unknown_feed"),
        (#"{"feed":"bed","id":"RAL-bed-202602051130","at":"2026-02-05T11:30:00Z","site":"RAL","ga_core_open":820,"ga_core_occupied":790}"#, "unknown_site"),
        (#"{"feed":"bed","id":"RQW-bed-202602051130","at":"2026-02-05T11:30:00Z","site":"RQW","ga_core_open":"516","ga_core_occupied":470}"#, "bad_type"),
        (#"{"feed":"ambulance","id":"EEAST-bad-2","at":"2026-02-05T11:30:00Z","site":"RWH","kind":"arrived","category":2}"#, "missing_field"),
        (#"{"feed":"bed","id":"RQW-bed-202602051131","at":"2026-02-05T11:31:00Z","site":"RQW","ga_core_open":516,"ga_core_occupied":530}"#, "out_of_range"),
        (#"{"feed":"ambulance","id":"EEAST-status-202602051100","at":"2026-02-05T11:00:00Z","site":"EEAST","kind":"status","stack_waiting":97}"#, "duplicate_id"),
        (#"{"feed":"bed","id":"RWH-bed-202602091130","at":"2026-02-09T11:30:00Z","site":"RWH","ga_core_open":694,"ga_core_occupied":600}"#, "future_time"),
        (#"{"feed":"dtoc","id":"RWH-dtoc-bad-1","at":"2026-02-05T11:31:00Z","site":"RWH","kind":"start","patient":"pk-bad00001","reason":"E","org":"social","pathway":"P1","nhs_number":"not given"}"#, "identifiable"),
        (#"{"feed":"dtoc","id":"RWH-dtoc-bad-2","at":"2026-02-05T11:31:00Z","site":"RWH","kind":"start","patient":"9434765919","reason":"E","org":"social","pathway":"P1"}"#, "identifiable"),
        (#"{"v":2,"feed":"111","id":"HUC-111-v2-202602051130","at":"2026-02-05T11:30:00Z","site":"HUC","offered":40,"answered":39,"answered_60s":33,"abandoned":1}"#, "unsupported_version"),
    ]
}

// MARK: - october-clock-change

/// Saturday 24 October 2026 18:00 BST to Sunday 25 October 12:00 GMT: the clocks go back at
/// 02:00 BST. A busy Saturday evening at Lister pushes handover hours lost past 15 before local
/// midnight (23:00 UTC); the since-midnight count resets there.
enum OctoberClockChange {
    static let start = UKTime.utc(2026, 10, 24, 17)

    static var profile: Profile {
        var p = Profile(start: start, end: UKTime.utc(2026, 10, 25, 12))
        p.localFeeds = [FeedKind.bed.rawValue, FeedKind.dtoc.rawValue, FeedKind.nhs111.rawValue,
                        FeedKind.ambulance.rawValue]
        let lister = Curve([(0, 2.4), (4.0, 2.4), (4.5, 14)])
        p.arrivalsPerDay = { s, _ in [100, 94, 66][s] }
        p.handoverPerHour = { s, t in s == 0 ? lister(hoursSince(t, start)) : 14 }
        p.occupancy = { s, _ in [0.905, 0.895, 0.91, 0.93, 0.95][s] }
        p.edStress = { s, t in
            let h = hoursSince(t, start)
            return s == 0 && h < 7 ? 0.3 : 0
        }
        p.declaredOpel = { s, t in s == 0 && hoursSince(t, start) < 7 ? 3 : 2 }
        p.stackLoad = { _ in 0.7 }   // a quiet night for EEAST apart from crews held at Lister
        return p
    }
}
