/// History resolution and length: `points` samples every `step` (24 h at 5 minutes).
public struct MetricHistory: Sendable, Equatable {
    public var step: Duration
    public var points: Int
    public init(step: Duration, points: Int) {
        self.step = step
        self.points = points
    }
    public var span: Duration { step * Int64(points) }
}

/// A fixed ring of samples for every metric of every site (and the system). Memory is fixed at
/// construction: sites x metrics x points x 4 bytes (about 260 KB for the bundled system).
struct MetricHistoryStore: Sendable {
    let spec: MetricHistory
    let width: Int                 // values per row: sites x metrics
    private var ring: [Float]
    private var times: [EventTime?]
    private var head = 0           // next slot to write
    private(set) var lastSample: EventTime?
    /// Values written by a back-fill of the samples after a feed's latest line (`FlowModel`,
    /// "Back-filling history"): one bit per value of the ring, `wordsPerSlot` words a slot;
    /// empty until the first such write (a replay never makes one). A later line of that feed
    /// behind them clears them, and the next fill writes them again; a sample taken live is
    /// never marked, and recording a new sample into a slot clears its marks.
    private var provisional: [UInt64] = []
    private var wordsPerSlot: Int { (width + 63) / 64 }

    init(sites: Int, spec: MetricHistory) {
        self.spec = spec
        self.width = sites * MetricKey.allCases.count
        self.ring = Array(repeating: .nan, count: width * spec.points)
        self.times = Array(repeating: nil, count: spec.points)
    }

    // MARK: - Back-filling

    /// The ring slot of the sample at `s` (a sample time: on the step's grid, at or before the
    /// latest sample), or nil when the ring no longer reaches back to it. A slot never written
    /// (the service started less than a day ago) is the sample's all the same: samples are one
    /// step apart back from the latest.
    func slot(of s: EventTime) -> Int? {
        guard let last = lastSample, s <= last else { return nil }
        let k = (last - s).millis / spec.step.millis + 1
        guard k <= Int64(spec.points), (last - s).millis % spec.step.millis == 0 else { return nil }
        let slot = slotBack(Int(k))
        guard times[slot] == nil || times[slot] == s else { return nil }
        return slot
    }

    /// Whether a back-fill may write the value at `index` of the sample in `slot`: it is missing,
    /// or holds a provisional back-fill (never a value sampled live).
    @inline(__always) func writable(slot: Int, index: Int) -> Bool {
        ring[slot * width + index].isNaN || isProvisional(slot: slot, index: index)
    }

    @inline(__always) func isProvisional(slot: Int, index: Int) -> Bool {
        guard !provisional.isEmpty else { return false }
        return provisional[slot * wordsPerSlot + index / 64] & (1 << UInt64(index % 64)) != 0
    }

    /// Writes a back-filled value into the sample at `s` in `slot` (`slot(of:)`), marked
    /// provisional or not; returns whether the stored value changed.
    mutating func fill(_ s: EventTime, slot: Int, index: Int, value: Float, provisional mark: Bool) -> Bool {
        if times[slot] == nil { times[slot] = s }
        let i = slot * width + index
        let changed = ring[i].bitPattern != value.bitPattern
        ring[i] = value
        let word = slot * wordsPerSlot + index / 64, bit = UInt64(1) << UInt64(index % 64)
        if mark && !value.isNaN {
            if provisional.isEmpty { provisional = Array(repeating: 0, count: wordsPerSlot * spec.points) }
            provisional[word] |= bit
        } else if !provisional.isEmpty {
            provisional[word] &= ~bit
        }
        return changed
    }

    /// The next sample time due in (previous, upTo], if any.
    func nextSample(after previous: EventTime?, upTo t: EventTime) -> EventTime? {
        let candidate: EventTime
        if let last = lastSample {
            candidate = last + spec.step
        } else {
            candidate = t.floored(to: spec.step)
            if let p = previous, candidate <= p { return nil }
        }
        // After a long silence, skip straight to the window that still matters.
        if t - candidate > spec.span {
            return (t - spec.span).floored(to: spec.step) + spec.step
        }
        return candidate <= t ? candidate : nil
    }

    /// One block copy of the row: copied value by value, each index checked, it was 3% of a
    /// replay without rules (a row per 5 minutes of event time, 256 values).
    mutating func record(at t: EventTime, row: [Float]) {
        precondition(row.count == width)
        let base = head * width
        ring.withUnsafeMutableBufferPointer { ring in
            row.withUnsafeBufferPointer { row in (ring.baseAddress! + base).update(from: row.baseAddress!, count: width) }
        }
        endSample(at: t)
    }

    /// Records only the values of `row` for the metrics `only[site]` (indices of `allCases`) of
    /// each site; the caller knows the slot's other values to be those of `row` already (missing,
    /// never written). Headless replay keeps only the trend rules' metrics, and a whole row of
    /// 1 KB per sample, into a ring of 295 KB, missed the cache at every sample.
    mutating func record(at t: EventTime, row: [Float], only cells: [Cell]) {
        precondition(row.count == width)
        let base = head * width
        ring.withUnsafeMutableBufferPointer { ring in
            for c in cells { ring[base + c.index] = row[c.index] }
        }
        endSample(at: t)
    }

    /// A value of a row: a metric at a site, at `index` (`site * metrics + metric index`).
    struct Cell: Sendable {
        let site: Int
        let metric: MetricKey
        let index: Int
        init(site: Int, metric: Int) {
            self.site = site
            self.metric = MetricKey.allCases[metric]
            self.index = site * MetricKey.allCases.count + metric
        }
        /// The cells of `metrics` (indices of `allCases`) per site, in site order.
        static func of(_ metrics: [[Int]]) -> [Cell] {
            metrics.enumerated().flatMap { site, ks in ks.map { Cell(site: site, metric: $0) } }
        }
    }

    private mutating func endSample(at t: EventTime) {
        if !provisional.isEmpty {
            // A new sample in this slot: the marks were the old sample's.
            let w = wordsPerSlot
            for i in (head * w)..<(head * w + w) { provisional[i] = 0 }
        }
        times[head] = t
        head = (head + 1) % spec.points
        lastSample = t
    }

    /// Samples of one metric at one site over the last `count` steps ending at the latest
    /// sample, oldest first; nil where missing.
    func series(site: Int, metric: Int, count: Int) -> [Double?] {
        let n = min(count, spec.points)
        var out = [Double?](repeating: nil, count: n)
        guard lastSample != nil else { return out }
        for j in 0..<n {
            let slot = ((head - n + j) % spec.points + spec.points) % spec.points
            guard times[slot] != nil else { continue }
            let v = ring[slot * width + site * MetricKey.allCases.count + metric]
            out[j] = v.isNaN ? nil : Double(v)
        }
        return out
    }

    /// The farthest from `value` of the values of one metric at one site sampled after `since`,
    /// which must be `step` apart from `since` on; nil if one is missing, they are not so spaced,
    /// or the ring no longer holds the sample after `since`.
    func deviation(site: Int, metric: Int, after since: EventTime, from value: Double) -> Double? {
        var farthest = 0.0
        var slot = head, expected = lastSample
        for _ in 0..<spec.points {
            slot = slot == 0 ? spec.points - 1 : slot - 1
            guard let t = times[slot], let e = expected, t == e else { return nil }
            if t <= since { return t == since ? farthest : nil }
            let v = ring[slot * width + site * MetricKey.allCases.count + metric]
            guard !v.isNaN else { return nil }
            farthest = max(farthest, abs(Double(v) - value))
            expected = t - spec.step
        }
        return nil
    }

    /// (time, value) pairs within `window` of the latest sample, oldest first, known values only.
    func points(site: Int, metric: Int, window: Duration) -> [(EventTime, Double)] {
        var out: [(EventTime, Double)] = []
        points(site: site, metric: metric, window: window, into: &out)
        return out
    }

    /// The slot of the sample `k` back from the newest (`k` = 1), for `k` in 1...points: a
    /// conditional add where `((head - k) % n + n) % n` divided twice, for each point a trend
    /// rule reads.
    @inline(__always) private func slotBack(_ k: Int) -> Int {
        let s = head - k
        return s < 0 ? s + spec.points : s
    }

    /// The same, into `out` (emptied first; its storage is reused).
    func points(site: Int, metric: Int, window: Duration, into out: inout [(EventTime, Double)]) {
        out.removeAll(keepingCapacity: true)
        guard let last = lastSample else { return }
        let n = spec.points
        // Walk back from the newest sample only as far as the window reaches.
        let reach = min(n, Int(window.millis / spec.step.millis) + 1)
        out.reserveCapacity(reach)
        for j in stride(from: reach, through: 1, by: -1) {
            let slot = slotBack(j)
            guard let t = times[slot], last - t <= window else { continue }
            let v = ring[slot * width + site * MetricKey.allCases.count + metric]
            if !v.isNaN { out.append((t, Double(v))) }
        }
    }

    /// Brings `out`, the points of `points(site:metric:window:into:)` as of the sample at `since`,
    /// up to the latest sample: the samples after `since` are appended and those now out of the
    /// window dropped. The same points as a refill, for one ring read per new sample instead of
    /// one per sample of the window (a trend rule refreshes its points at every sample).
    func updatePoints(site: Int, metric: Int, window: Duration, since: EventTime?, into out: inout [(EventTime, Double)]) {
        let n = spec.points
        let reach = Int(window.millis / spec.step.millis) + 1
        guard let since, let last = lastSample, reach < n else {
            // Nothing to start from, or a window as long as the ring: read it all.
            points(site: site, metric: metric, window: window, into: &out)
            return
        }
        // The samples after `since`, newest first (sample times only increase). A window of them
        // or more (none of the old points is left), or `since` not the sample before them: read
        // the window.
        var fresh = 0
        while fresh < reach, let t = times[slotBack(fresh + 1)], t > since { fresh += 1 }
        if fresh == reach || times[slotBack(fresh + 1)] != since {
            points(site: site, metric: metric, window: window, into: &out)
            return
        }
        // The old points within the window of the latest sample stay, in order.
        var keep = 0
        while keep < out.count, last - out[keep].0 > window { keep += 1 }
        if keep > 0 { out.removeFirst(keep) }
        for j in stride(from: fresh, through: 1, by: -1) {
            let slot = slotBack(j)
            guard let t = times[slot], last - t <= window else { continue }
            let v = ring[slot * width + site * MetricKey.allCases.count + metric]
            if !v.isNaN { out.append((t, Double(v))) }
        }
    }
}

extension MetricKey {
    /// Position in `allCases` (the history row layout): a switch, which compiles to a table;
    /// a dictionary from case to position hashed the key (SipHash) at every history read and
    /// every check of which metrics the history keeps. In declaration order, as `allCases`
    /// (a test checks).
    var index: Int {
        switch self {
        case .gaOccupancyPct: return 0
        case .gaOccupancyInclEscPct: return 1
        case .escalationBedsOpen: return 2
        case .escalationSharePct: return 3
        case .bedsClosed: return 4
        case .edInDepartment: return 5
        case .edDtaWaiting: return 6
        case .ed4hPct: return 7
        case .edOver12h: return 8
        case .edOver12hSharePct: return 9
        case .dtocPatients: return 10
        case .dtocSharePct: return 11
        case .dtocBedDays: return 12
        case .dtocLongestDays: return 13
        case .ambulanceQueue: return 14
        case .ambulanceLongestWaitMin: return 15
        case .ambulanceArrivals: return 16
        case .handovers30to60: return 17
        case .handoversOver60: return 18
        case .handoverHoursLost: return 19
        case .handoverToClearMin: return 20
        case .stackWaiting: return 21
        case .cat2MeanMin: return 22
        case .nhs111Offered: return 23
        case .nhs111AnsweredWithin60sPct: return 24
        case .nhs111AbandonedPct: return 25
        case .nhs111UrgentDispositionPct: return 26
        case .nhs111AmbulanceDispositionPct: return 27
        case .nhs111EDDispositionPct: return 28
        case .nhs111OfferedToday: return 29
        case .opelScore: return 30
        case .opelLevel: return 31
        }
    }
}

extension FlowModel {
    /// History of a metric at a site, oldest first (nil = missing), `count` samples at
    /// `history.step`. `site == config.units.count` is the system.
    public func series(_ metric: MetricKey, site: Int, count: Int) -> [Double?] {
        historyStore.series(site: site, metric: metric.index, count: count)
    }

    /// The farthest from `value` of a metric's samples at a site taken after `since` (see
    /// `MetricHistoryStore.deviation`; 0 if none).
    func historyDeviation(_ metric: MetricKey, site: Int, after since: EventTime, from value: Double) -> Double? {
        historyStore.lastSample == since ? 0 : historyStore.deviation(site: site, metric: metric.index, after: since, from: value)
    }

    /// Whether the history samples a metric at a site (those a trend rule fits always are).
    func keepsHistory(_ metric: MetricKey, site: Int) -> Bool { historyMetrics[site].contains(metric.index) }

    /// Time of the latest history sample (nil before the first).
    public var lastHistorySample: EventTime? { historyStore.lastSample }

    /// Known history points within a window (for trend fitting).
    public func points(_ metric: MetricKey, site: Int, window: Duration) -> [(EventTime, Double)] {
        historyStore.points(site: site, metric: metric.index, window: window)
    }

    /// The same, into `out` (its storage reused).
    func points(_ metric: MetricKey, site: Int, window: Duration, into out: inout [(EventTime, Double)]) {
        historyStore.points(site: site, metric: metric.index, window: window, into: &out)
    }

    /// `out`, the points of `points(_:site:window:into:)` at the sample `since`, brought up to the
    /// latest sample (MetricHistoryStore.updatePoints).
    func updatePoints(_ metric: MetricKey, site: Int, window: Duration, since: EventTime?, into out: inout [(EventTime, Double)]) {
        historyStore.updatePoints(site: site, metric: metric.index, window: window, since: since, into: &out)
    }
}
