/// The event-driven model behind every scenario: ambulance conveyances with a handover queue per
/// acute site, bed state, delayed-transfer episodes, NHS 111 intervals and the ambulance service
/// status. A `Profile` supplies the story (volumes, pressure, outages) as functions of time; the
/// simulation steps one minute at a time and streams lines in emission order through a small heap.

/// The feeds.
enum FeedKind: Int, Sendable {
    case bed, dtoc, nhs111, ambulance

    /// As written in the `feed` field.
    var name: String {
        switch self {
        case .bed: "bed"
        case .dtoc: "dtoc"
        case .nhs111: "111"
        case .ambulance: "ambulance"
        }
    }
}

/// A unit that reports bed state. The first three are the acute sites.
struct BedUnit: Sendable {
    let code: String
    let bedBase: Int
    let unavailable: Int            // core beds never open (ward layout, side rooms blocked)
    // Acute only:
    let arrivalsPerDay: Double      // ambulance arrivals, winter 2018/19 sitrep mean
    let type1PerDay: Double         // type-1 A&E attendances a day, winter 2016-19
    let fourHourPct: Double         // ordinary-day 4-hour performance
    let edScale: Double             // patients in department relative to Lister
    let dtocBase: Int               // first DToC message number
}

enum Units {
    static let beds: [BedUnit] = [
        BedUnit(code: "RWH", bedBase: 700, unavailable: 6, arrivalsPerDay: 95, type1PerDay: 295,
                fourHourPct: 76.5, edScale: 1.0, dtocBase: 41_000),
        BedUnit(code: "RWG", bedBase: 620, unavailable: 5, arrivalsPerDay: 92, type1PerDay: 266,
                fourHourPct: 71.0, edScale: 0.92, dtocBase: 88_000),
        BedUnit(code: "RQW", bedBase: 520, unavailable: 4, arrivalsPerDay: 64, type1PerDay: 279,
                fourHourPct: 73.0, edScale: 0.85, dtocBase: 63_000),
        BedUnit(code: "HCT", bedBase: 180, unavailable: 4, arrivalsPerDay: 0, type1PerDay: 0,
                fourHourPct: 0, edScale: 0, dtocBase: 0),
        BedUnit(code: "HPFT", bedBase: 340, unavailable: 6, arrivalsPerDay: 0, type1PerDay: 0,
                fourHourPct: 0, edScale: 0, dtocBase: 0),
    ]
    static let acuteCount = 3
}

/// Hourly shapes (value at the middle of each local hour), interpolated linearly.
enum Shapes {
    /// Ambulance arrivals: low overnight, peak late morning to early evening.
    static let ambulance = normalised([3.0, 2.7, 2.4, 2.2, 2.0, 2.0, 2.3, 3.0, 3.8, 4.6, 5.3, 5.6,
                                       5.6, 5.5, 5.4, 5.3, 5.3, 5.2, 5.0, 4.8, 4.5, 4.1, 3.7, 3.3])
    /// Type-1 A&E arrivals (walk-in and ambulance), for since-midnight attendances.
    static let edArrivals = normalised([2.2, 1.7, 1.3, 1.1, 1.0, 1.1, 1.6, 2.8, 4.6, 6.0, 6.5, 6.4,
                                        6.0, 5.7, 5.5, 5.4, 5.4, 5.4, 5.3, 5.0, 4.6, 4.0, 3.3, 2.7])
    /// NHS 111 calls on a weekday: evening peak.
    static let calls111Weekday = normalised([2.6, 2.0, 1.6, 1.4, 1.3, 1.4, 2.0, 3.4, 5.2, 5.6, 5.2, 4.8,
                                             4.6, 4.4, 4.3, 4.4, 4.8, 5.6, 6.6, 6.9, 6.4, 5.4, 4.4, 3.4])
    /// NHS 111 calls at weekends and bank holidays: busy all day (GP practices closed).
    static let calls111Weekend = normalised([3.4, 2.6, 2.0, 1.7, 1.6, 1.7, 2.4, 3.6, 5.4, 6.6, 6.8, 6.6,
                                             6.2, 5.8, 5.4, 5.2, 5.2, 5.4, 5.6, 5.6, 5.2, 4.6, 4.0, 3.6])
    /// G&A occupancy, percentage points around the daily mean: full in the morning before
    /// discharges, lowest late afternoon.
    static let occupancy: [Double] = [0.6, 0.8, 1.0, 1.1, 1.2, 1.2, 1.2, 1.2, 1.1, 0.9, 0.5, 0.0,
                                      -0.5, -1.0, -1.4, -1.7, -1.8, -1.6, -1.2, -0.8, -0.4, 0.0, 0.2, 0.4]
    /// Patients in a type-1 department (Lister scale) on an ordinary day.
    static let edInDepartment: [Double] = [38, 33, 29, 26, 24, 23, 24, 30, 42, 55, 64, 70,
                                           73, 74, 75, 76, 76, 75, 72, 68, 62, 55, 48, 43]
    /// Calls waiting on the 999 stack on an ordinary day.
    static let stack: [Double] = [70, 62, 55, 50, 46, 45, 48, 58, 72, 86, 96, 102,
                                  105, 106, 105, 104, 104, 104, 102, 99, 95, 90, 84, 77]
    /// Cumulative share of the day's ED arrivals by the start of each local hour (25 values).
    static let edCumulative: [Double] = {
        var c = [0.0]
        var s = 0.0
        for v in edArrivals { s += v / 24; c.append(s) }
        return c.map { $0 / s }
    }()

    static func normalised(_ v: [Double]) -> [Double] {
        var s = 0.0
        for x in v { s += x }
        let mean = s / Double(v.count)
        return v.map { $0 / mean }
    }

    /// Value at a local fractional hour (values sit at the middle of each hour).
    @inline(__always)
    static func at(_ v: [Double], _ hour: Double) -> Double {
        var x = hour - 0.5
        if x < 0 { x += 24 }
        let i = Int(x)
        let f = x - Double(i)
        return v[i % 24] * (1 - f) + v[(i + 1) % 24] * f
    }

    /// Share of the day's ED arrivals since local midnight.
    static func edSinceMidnight(_ hour: Double) -> Double {
        let i = min(23, Int(hour))
        let f = hour - Double(i)
        return edCumulative[i] * (1 - f) + edCumulative[i + 1] * f
    }
}

/// Piecewise-linear curve through (hour, value) knots; flat beyond the ends.
struct Curve: Sendable {
    let knots: [(Double, Double)]
    init(_ knots: [(Double, Double)]) { self.knots = knots }
    func callAsFunction(_ x: Double) -> Double {
        if x <= knots[0].0 { return knots[0].1 }
        for i in 1..<knots.count where x <= knots[i].0 {
            let (x0, y0) = knots[i - 1], (x1, y1) = knots[i]
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
        }
        return knots[knots.count - 1].1
    }
}

/// The story of a scenario. Unit indexes: 0 RWH, 1 RWG, 2 RQW, 3 HCT, 4 HPFT. Times are Unix
/// seconds (UTC).
struct Profile {
    var start: Int64
    var end: Int64
    /// Feeds whose `at` is written with the local offset (`+00:00`/`+01:00`) rather than `Z`.
    var localFeeds: Set<Int> = []
    /// Ambulance arrivals a day at an acute site (scaled by the daily shape).
    var arrivalsPerDay: (Int, Int64) -> Double = { s, _ in Units.beds[s].arrivalsPerDay }
    /// Handover capacity of an ED, patients an hour (ordinarily well above arrivals).
    var handoverPerHour: (Int, Int64) -> Double = { _, _ in 14 }
    /// Share of conveyances whose handover is slow by itself (30-43 minutes).
    var slowShare: (Int, Int64) -> Double = { _, _ in 0.075 }
    /// Bed demand as a fraction of the core beds open (above about 0.995 escalation beds open).
    var occupancy: (Int, Int64) -> Double = { s, _ in [0.900, 0.905, 0.915, 0.935, 0.955][s] }
    var closed: (Int, Int64) -> Int = { _, _ in 0 }
    /// Target delayed-transfer patients as a share of occupied beds.
    var dtocShare: (Int, Int64) -> Double = { _, _ in 0.108 }
    /// Relative pace of social-care discharges (1 normal; low when social care is closed).
    var socialPace: (Int64) -> Double = { _ in 1 }
    /// ED stress 0...1 (4-hour performance, decisions to admit waiting, 12-hour waits).
    var edStress: (Int, Int64) -> Double = { _, _ in 0 }
    var declaredOpel: (Int, Int64) -> Int = { _, _ in 2 }
    var calls111PerDay: (Int64) -> Double = { t in Profile.isWeekendOrHoliday(t) ? 3400 : 2200 }
    /// Share of 111 dispositions that are ambulance or ED.
    var urgentShare: (Int64) -> Double = { _ in 0.19 }
    var answered60: (Int64) -> Double = { _ in 0.82 }
    var abandonRate: (Int64) -> Double = { _ in 0.022 }
    /// Extra load on the 999 stack (multiplier of the ordinary daily shape).
    var stackLoad: (Int64) -> Double = { _ in 1 }
    /// A feed of a unit that is silent at a time (messages not sent). Unit: bed index, or
    /// 5 for HUC, 6 for EEAST.
    var silent: (FeedKind, Int, Int64) -> Bool = { _, _, _ in false }
    /// When a silent 111 feed comes back, it resends the missing intervals late.
    var resend111: Bool = false
    /// Raw lines emitted at given times (deliberately bad lines).
    var injections: [(Int64, [String])] = []

    static func isWeekendOrHoliday(_ t: Int64) -> Bool {
        let day = UKTime.localDay(t)
        let wd = UKTime.weekday(dayNumber: day)
        if wd == 0 || wd == 6 { return true }
        let (_, m, d) = UKTime.civilFromDays(day)
        return (m == 12 && (d == 25 || d == 26)) || (m == 1 && d == 1)
    }
}

/// A min-heap of pending lines keyed by (emission time, sequence).
struct LineHeap {
    private var keys: [(Int64, UInt64)] = []
    private var lines: [String] = []
    private var seq: UInt64 = 0

    var isEmpty: Bool { keys.isEmpty }
    var minTime: Int64 { keys[0].0 }

    @inline(__always) private static func less(_ a: (Int64, UInt64), _ b: (Int64, UInt64)) -> Bool {
        a.0 < b.0 || (a.0 == b.0 && a.1 < b.1)
    }

    mutating func push(_ t: Int64, _ line: String) {
        seq &+= 1
        keys.append((t, seq))
        lines.append(line)
        var i = keys.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if LineHeap.less(keys[i], keys[p]) {
                keys.swapAt(i, p); lines.swapAt(i, p); i = p
            } else { break }
        }
    }

    mutating func pop() -> String {
        let out = lines[0]
        let last = keys.count - 1
        keys.swapAt(0, last); lines.swapAt(0, last)
        keys.removeLast(); lines.removeLast()
        var i = 0
        let n = keys.count
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < n && LineHeap.less(keys[l], keys[m]) { m = l }
            if r < n && LineHeap.less(keys[r], keys[m]) { m = r }
            if m == i { break }
            keys.swapAt(i, m); lines.swapAt(i, m); i = m
        }
        return out
    }
}

struct Conveyance {
    let incident: Int
    let arrived: Int64
    let eligible: Int64
}

struct DtocPatient {
    let key: String
    let org: Int        // 0 nhs, 1 social, 2 both
    let since: Int64
}

final class Simulation {
    var rng: SplitMix64
    let p: Profile
    var heap = LineHeap()
    var emitted = 0
    var limit = Int.max
    /// Event time runs this many times faster than the simulation's (every time written,
    /// `stamp`): the same messages, in the same order, packed closer (`generate bench
    /// --compress-time`: issue 6's "2 million messages a week" is about 250).
    var timeCompression: Int64 = 1

    // Ambulance
    var arrivalAcc = [Double](repeating: 0, count: 3)
    var arrivalThr = [Double](repeating: 1, count: 3)
    var queues: [[Conveyance]] = [[], [], []]
    var tokens = [Double](repeating: 3, count: 3)
    var nextIncident = 7_781_000
    var stackSmooth = -1.0

    // Beds
    var escOpen = [Int](repeating: 0, count: 5)
    var occNoise = [Double](repeating: 0, count: 5)
    var occupied = [Int](repeating: 0, count: 5)

    // DToC
    var dtoc: [[DtocPatient]] = [[], [], []]
    var dtocCounter = [Int](repeating: 0, count: 3)
    var patientCounter: UInt32 = 0
    var hctNoise = 0.0

    // 111
    var carry111 = [Double](repeating: 0, count: 8)
    var held111: [String] = []

    init(profile: Profile, seed: UInt64) {
        p = profile
        rng = SplitMix64(seed: seed)
        for s in 0..<3 { arrivalThr[s] = rng.uniform(0.4, 1.6); arrivalAcc[s] = rng.uniform(0, 1) }
        nextIncident = 7_700_000 + rng.int(0, 90_000)
        for s in 0..<3 { dtocCounter[s] = Units.beds[s].dtocBase + rng.int(0, 900) }
        patientCounter = UInt32(truncatingIfNeeded: rng.next())
    }

    @inline(__always) func stamp(_ t: Int64, _ feed: FeedKind) -> String {
        UKTime.format(p.start + (t - p.start) / timeCompression, local: p.localFeeds.contains(feed.rawValue))
    }

    /// A message's opening fields, the same in every feed: feed, id, at (stamped as the feed
    /// writes it), site and, for event messages, kind. The caller adds the rest and closes it.
    func message(_ feed: FeedKind, id: String, at t: Int64, site: String, kind: String? = nil) -> JSONLine {
        var j = JSONLine()
        j.str("feed", feed.name)
        j.str("id", id)
        j.str("at", stamp(t, feed))
        j.str("site", site)
        if let kind { j.str("kind", kind) }
        return j
    }

    // MARK: run

    func run(_ emit: (String) -> Void) {
        var injections = p.injections.sorted { $0.0 < $1.0 }
        var t = p.start
        startDtocStock(p.start)
        while t < p.end && emitted < limit {
            if t % 3600 == 0 {
                for u in 0..<5 { bedMessage(u, t) }
                for s in 0..<3 { dtocHour(s, t) }
            }
            if UKTime.localSecondOfDay(t) == 8 * 3600 { hctSnapshot(t) }
            if t % 900 == 0 {
                nhs111(t)
                status(t)
            }
            for s in 0..<3 {
                arrivals(s, t)
                handovers(s, t)
            }
            while let f = injections.first, f.0 <= t {
                for line in f.1 { heap.push(t, line) }
                injections.removeFirst()
            }
            flush(before: t + 60, emit)
            t += 60
        }
    }

    func flush(before limitTime: Int64, _ emit: (String) -> Void) {
        while !heap.isEmpty && heap.minTime < limitTime && emitted < limit {
            emit(heap.pop())
            emitted += 1
        }
    }

    // MARK: ambulance

    func arrivals(_ s: Int, _ t: Int64) {
        let perMinute = p.arrivalsPerDay(s, t) / 1440 * Shapes.at(Shapes.ambulance, UKTime.localHour(t))
        arrivalAcc[s] += perMinute
        while arrivalAcc[s] >= arrivalThr[s] {
            arrivalAcc[s] -= arrivalThr[s]
            arrivalThr[s] = rng.uniform(0.4, 1.6)
            let at = t + Int64(rng.int(0, 59))
            let inc = nextIncident
            nextIncident += 1
            let category = 1 + rng.pick([7, 63, 24, 6])
            // Time from arrival until the ED could take the handover with no queue.
            let base: Double
            let u = rng.uniform()
            let slow = p.slowShare(s, t)
            if u < slow { base = rng.uniform(30.5, 43) }
            else if u < slow + 0.22 { base = rng.uniform(19, 30) }
            else { base = rng.uniform(8, 19) }
            queues[s].append(Conveyance(incident: inc, arrived: at, eligible: at + Int64(base * 60)))
            if p.silent(.ambulance, s, at) { continue }
            var j = conveyanceEvent(inc, "a", kind: "arrived", site: s, at: at)
            j.int("category", category)
            heap.push(at, j.close())
        }
    }

    /// A conveyance's arrived, handover or clear message: id `EEAST-<incident>-<suffix>`.
    func conveyanceEvent(_ incident: Int, _ suffix: String, kind: String, site s: Int, at t: Int64) -> JSONLine {
        var j = message(.ambulance, id: "EEAST-\(incident)-\(suffix)", at: t, site: Units.beds[s].code, kind: kind)
        j.str("incident", "inc-\(incident)")
        return j
    }

    func handovers(_ s: Int, _ t: Int64) {
        tokens[s] = min(3, tokens[s] + p.handoverPerHour(s, t) / 60)
        if queues[s].isEmpty { return }
        var i = 0
        while i < queues[s].count && tokens[s] >= 1 {
            let c = queues[s][i]
            if c.eligible <= t + 59 {
                tokens[s] -= 1
                queues[s].remove(at: i)
                let h = max(c.eligible, t + Int64(rng.int(0, 59)))
                let clear = h + Int64(rng.uniform(9, 22) * 60)
                if p.silent(.ambulance, s, h) { continue }
                var handover = conveyanceEvent(c.incident, "h", kind: "handover", site: s, at: h)
                heap.push(h, handover.close())
                var cleared = conveyanceEvent(c.incident, "c", kind: "clear", site: s, at: clear)
                heap.push(clear, cleared.close())
            } else {
                i += 1
            }
        }
    }

    func status(_ t: Int64) {
        let h = UKTime.localHour(t)
        var queued = 0
        for q in queues { queued += q.count }
        // Crews held at hospitals beyond the usual few leave calls waiting on the stack.
        let target = Shapes.at(Shapes.stack, h) * p.stackLoad(t) + 8 * Double(max(0, queued - 4)) + rng.uniform(-6, 6)
        stackSmooth = stackSmooth < 0 ? target : stackSmooth * 0.5 + target * 0.5
        let stack = max(0, Int(stackSmooth.rounded()))
        let pressure = Double(stack)
        if p.silent(.ambulance, 6, t) { return }
        var j = message(.ambulance, id: "EEAST-status-" + UKTime.idStamp(t), at: t, site: "EEAST", kind: "status")
        j.int("stack_waiting", stack)
        let c1 = 430 + pressure * 0.9 + rng.uniform(-25, 25)
        let c2 = 1500 + pressure * 11 + rng.uniform(-90, 90)
        j.int("cat1_mean_s", Int(c1))
        j.int("cat1_p90_s", Int(c1 * 1.75))
        j.int("cat2_mean_s", Int(c2))
        j.int("cat2_p90_s", Int(c2 * 2.2))
        j.int("cat3_p90_s", Int(7200 + pressure * 40))
        j.int("cat4_p90_s", Int(10_800 + pressure * 55))
        heap.push(t, j.close())
    }

    // MARK: beds

    func bedMessage(_ u: Int, _ t: Int64) {
        let unit = Units.beds[u]
        let h = UKTime.localHour(t)
        let closed = p.closed(u, t)
        let coreOpen = unit.bedBase - unit.unavailable - closed
        occNoise[u] = occNoise[u] * 0.7 + rng.uniform(-0.25, 0.25)
        let demandFrac = p.occupancy(u, t) + (Shapes.at(Shapes.occupancy, h) + occNoise[u]) / 100
        let demand = Int((demandFrac * Double(coreOpen)).rounded())
        // Escalation beds open when core is (almost) full, in bays of 4, and close one bay an
        // hour once no longer needed.
        let need = max(0, demand - (coreOpen - 3))
        let wanted = need > 0 ? ((need + 2 + 3) / 4) * 4 : 0
        if wanted > escOpen[u] { escOpen[u] = wanted } else if wanted + 4 <= escOpen[u] { escOpen[u] -= 4 }
        let esc = escOpen[u]
        let escOcc = esc > 0 ? min(esc, max(need, esc - 3)) : 0
        let coreOcc = min(coreOpen, max(0, demand - escOcc))
        occupied[u] = coreOcc + escOcc
        if p.silent(.bed, u, t) { return }
        var j = message(.bed, id: "\(unit.code)-bed-" + UKTime.idStamp(t), at: t, site: unit.code)
        j.int("ga_core_open", coreOpen)
        j.int("ga_core_occupied", coreOcc)
        j.int("esc_open", esc)
        j.int("esc_occupied", escOcc)
        j.int("closed", closed)
        if u < Units.acuteCount {
            let stress = p.edStress(u, t)
            let occFrac = Double(coreOcc + escOcc) / Double(coreOpen + esc)
            let inDept = Shapes.at(Shapes.edInDepartment, h) * unit.edScale * (1 + 0.55 * stress) + rng.uniform(-3, 3)
            let dta = 3 + 220 * max(0, occFrac - 0.875) + 30 * stress + rng.uniform(-1.5, 1.5)
            let over12 = max(0, (dta - 13) * 0.22) + 14 * stress * stress + rng.uniform(-0.6, 0.6)
            let attendances = Int((unit.type1PerDay * (1 + 0.15 * stress) * Shapes.edSinceMidnight(h)).rounded())
            j.int("ed_in_department", max(0, Int(inDept.rounded())))
            j.int("ed_dta_waiting", max(0, Int(dta.rounded())))
            if attendances > 0 {
                // Early in the day few patients have been in four hours: performance since
                // midnight starts high and settles as the day goes on.
                let settle = min(1, h / 10)
                let perf = 100 - (100 - unit.fourHourPct - 0.8 + 0.16 * h) * (0.55 + 0.45 * settle) - 22 * stress
                let breaches = min(attendances, Int((Double(attendances) * (100 - perf) / 100).rounded()))
                let pctTenths = Int((Double(attendances - breaches) * 1000 / Double(attendances)).rounded())
                j.tenths("ed_4h_pct", pctTenths)
                j.int("ed_breaches_since_midnight", breaches)
            }
            j.int("ed_over_12h", max(0, Int(over12.rounded())))
            j.int("declared_opel", p.declaredOpel(u, t))
        }
        heap.push(t, j.close())
    }

    // MARK: delayed transfers

    func newPatientKey(_ s: Int) -> String {
        patientCounter &+= 1
        // A bijection of the counter, so keys never repeat.
        var x = patientCounter &* 0x9E37_79B1
        x ^= x >> 15
        x = x &* 0x85EB_CA6B
        x ^= x >> 13
        let hex = String(x, radix: 16)
        return "pk-" + String(repeating: "0", count: 8 - hex.count) + hex
    }

    static let reasons: [[(String, Double)]] = [
        [("A", 30), ("C", 34), ("G", 14), ("F", 5), ("I", 5), ("O", 12)],      // nhs
        [("E", 40), ("DI", 18), ("DII", 20), ("B", 12), ("A", 10)],             // social
        [("H", 20), ("DII", 30), ("E", 30), ("A", 20)],                          // both
    ]

    func dtocStart(_ s: Int, at: Int64, readySince: Int64, socialBoost: Double) {
        let org = rng.pick([62, 31 * socialBoost, 7 * socialBoost])
        let table = Simulation.reasons[org]
        let reason = table[rng.pick(table.map { $0.1 })].0
        let pathway: String
        switch reason {
        case "DI", "DII": pathway = "P3"
        case "E", "F", "B": pathway = "P1"
        case "C": pathway = "P2"
        default: pathway = ["P1", "P2", "P3"][rng.pick([50, 35, 15])]
        }
        let key = newPatientKey(s)
        dtoc[s].append(DtocPatient(key: key, org: org, since: readySince))
        dtocCounter[s] += 1
        if p.silent(.dtoc, s, at) { return }
        var j = dtocEvent(s, kind: "start", patient: key, at: at)
        j.str("reason", reason)
        j.str("org", ["nhs", "social", "both"][org])
        j.str("pathway", pathway)
        j.str("ready_since", stamp(readySince, .dtoc))
        heap.push(at, j.close())
    }

    func dtocEnd(_ s: Int, at: Int64) {
        let pace = p.socialPace(at)
        let weights = dtoc[s].map { $0.org == 0 ? 1.0 : pace * (1 + 0.1 * Double(at - $0.since) / 86_400) }
        let i = rng.pick(weights)
        let patient = dtoc[s].remove(at: i)
        dtocCounter[s] += 1
        if p.silent(.dtoc, s, at) { return }
        var j = dtocEvent(s, kind: "end", patient: patient.key, at: at)
        heap.push(at, j.close())
    }

    /// A delayed-transfer start or end message, numbered with the site's current message number.
    func dtocEvent(_ s: Int, kind: String, patient: String, at t: Int64) -> JSONLine {
        var j = message(.dtoc, id: "\(Units.beds[s].code)-dtoc-\(dtocCounter[s])", at: t, site: Units.beds[s].code, kind: kind)
        j.str("patient", patient)
        return j
    }

    /// The patients already delayed when the recording starts (a census at the first minute).
    func startDtocStock(_ t: Int64) {
        for s in 0..<3 {
            let unit = Units.beds[s]
            let coreOpen = Double(unit.bedBase - unit.unavailable - p.closed(s, t))
            let n = Int((p.dtocShare(s, t) * p.occupancy(s, t) * coreOpen).rounded())
            for k in 0..<n {
                // Delays so far: mostly days, a long tail of weeks.
                let days = rng.uniform() < 0.8 ? rng.uniform(0.2, 8) : rng.uniform(8, 30)
                dtocStart(s, at: t + Int64(k / 4), readySince: t - Int64(days * 86_400), socialBoost: 1)
            }
        }
    }

    func dtocHour(_ s: Int, _ t: Int64) {
        let h = UKTime.localHour(t)
        let n = Double(dtoc[s].count)
        let target = p.dtocShare(s, t) * Double(max(occupied[s], 1))
        let turnover = 14.0 / 24
        // Ward rounds find patients ready in the morning; discharges happen in the afternoon.
        let startShape = (h >= 8 && h < 18) ? 2.0 : 0.2857
        let endShape = (h >= 10 && h < 20) ? 2.0 : 0.4
        let socialBoost = p.socialPace(t) < 0.8 ? 1.6 : 1.0
        let starts = rng.roundStochastic(turnover * startShape + max(0, target - n) * 0.12)
        let pace = (0.62 + 0.38 * p.socialPace(t))
        let ends = min(Int(n), rng.roundStochastic(turnover * endShape * pace + max(0, n - target) * 0.12))
        var times: [(Int64, Bool)] = []
        for _ in 0..<starts { times.append((t + Int64(rng.int(60, 3599)), true)) }
        for _ in 0..<ends { times.append((t + Int64(rng.int(60, 3599)), false)) }
        times.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 && !$1.1) }
        for (at, isStart) in times {
            if isStart {
                dtocStart(s, at: at, readySince: at - Int64(rng.int(0, 30 * 3600)), socialBoost: socialBoost)
            } else if !dtoc[s].isEmpty {
                dtocEnd(s, at: at)
            }
        }
    }

    /// The community trust reports counts only: one snapshot a day at 08:00 local.
    func hctSnapshot(_ t: Int64) {
        hctNoise = hctNoise * 0.6 + rng.uniform(-1.5, 1.5)
        let pace = p.socialPace(t)
        let patients = max(4, Int((15 + 9 * (1 - pace) + hctNoise).rounded()))
        let social = Int((Double(patients) * (0.28 + 0.12 * (1 - pace))).rounded())
        let both = max(1, Int((Double(patients) * 0.07).rounded()))
        let nhs = max(0, patients - social - both)
        let p3 = Int((Double(patients) * 0.22).rounded())
        let p2 = Int((Double(patients) * 0.36).rounded())
        let p1 = patients - p2 - p3
        if p.silent(.dtoc, 3, t) { return }
        var j = message(.dtoc, id: "HCT-dtoc-" + UKTime.dateStamp(dayNumber: UKTime.localDay(t)), at: t, site: "HCT", kind: "snapshot")
        j.int("patients", patients)
        j.int("nhs", nhs)
        j.int("social", social)
        j.int("both", both)
        j.int("p1", p1)
        j.int("p2", p2)
        j.int("p3", p3)
        heap.push(t, j.close())
    }

    // MARK: NHS 111

    /// Error-diffusion rounding: over any run of intervals the counts keep the target rate.
    @inline(__always) func diffuse(_ slot: Int, _ x: Double) -> Int {
        let v = x + carry111[slot]
        let r = max(0, Int(v.rounded()))
        carry111[slot] = v - Double(r)
        return r
    }

    func nhs111(_ t: Int64) {
        let mid = t - 450
        let shape = Profile.isWeekendOrHoliday(mid) ? Shapes.calls111Weekend : Shapes.calls111Weekday
        let expected = p.calls111PerDay(mid) / 96 * Shapes.at(shape, UKTime.localHour(mid))
        let offered = max(1, Int((expected * rng.uniform(0.9, 1.1)).rounded()))
        let abandoned = min(offered, diffuse(0, Double(offered) * p.abandonRate(mid)))
        let answered = offered - abandoned
        let a60 = min(answered, diffuse(1, Double(answered) * min(1, max(0, p.answered60(mid) + rng.uniform(-0.03, 0.03)))))
        let urgent = p.urgentShare(mid)
        let amb = min(answered, diffuse(2, Double(answered) * urgent * 0.555))
        let ed = min(answered - amb, diffuse(3, Double(answered) * urgent * 0.445))
        let other = min(answered - amb - ed, diffuse(4, Double(answered) * 0.04))
        let selfCare = min(answered - amb - ed - other, diffuse(5, Double(answered) * (1 - urgent - 0.04) * 0.2))
        let primary = answered - amb - ed - other - selfCare
        var j = message(.nhs111, id: "HUC-111-" + UKTime.idStamp(t), at: t, site: "HUC")
        j.int("minutes", 15)
        j.int("offered", offered)
        j.int("answered", answered)
        j.int("answered_60s", a60)
        j.int("abandoned", abandoned)
        j.int("disp_ambulance", amb)
        j.int("disp_ed", ed)
        j.int("disp_primary_care", primary)
        j.int("disp_self_care", selfCare)
        j.int("disp_other", other)
        let line = j.close()
        if p.silent(.nhs111, 5, t) {
            if p.resend111 { held111.append(line) }
            return
        }
        heap.push(t, line)
        for late in held111 { heap.push(t, late) }
        held111.removeAll()
    }
}
