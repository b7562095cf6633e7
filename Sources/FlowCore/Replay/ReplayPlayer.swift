/// Plays a recorded scenario against a wall clock at a chosen speed, in the manner of rosbag2's
/// player clock: the playhead moves `speed` event seconds per wall second, and can be paused,
/// stepped one event at a time, or run to the next alert transition.
///
/// Messages are fed to the engine in file order, and rule ticks are evaluated only once the
/// playhead has passed them, after every message at or before the tick and before any later
/// one. So the alerts are exactly those of the headless replay, at any speed. The wall clock
/// is passed in (milliseconds from any monotonic origin); the player reads no clock itself.
public struct ReplayPlayer {
    public let engine: FlowEngine
    public let name: String
    private let lines: [[UInt8]]
    /// Event time of each line (bad lines take the time of the line before).
    private let times: [EventTime]
    public private(set) var next = 0
    public private(set) var playhead: EventTime
    public private(set) var speed: Double
    public private(set) var paused = false
    private var lastWall: Int64?
    /// Transitions produced so far (most recent last), bounded.
    public private(set) var recentTransitions: [AlertTransition] = []
    public static let maxRecent = 500
    /// Keep every transition (tests and analysis), not just the most recent.
    public var keepAllTransitions = false
    private var finished = false
    /// The last tick boundary the engine was advanced to by `play`.
    private var advancedTo: EventTime?

    public static let minSpeed = 1.0
    public static let maxSpeed = 86_400.0

    /// A fresh player of `other`'s scenario at its start (`rewound`): the lines' times are
    /// those already worked out.
    private init(restarting other: ReplayPlayer) {
        engine = FlowEngine(config: other.engine.config, mode: .replay)
        name = other.name
        lines = other.lines
        times = other.times
        speed = other.speed
        playhead = other.start
        start = other.start
        keepAllTransitions = other.keepAllTransitions
        collectUnread = other.collectUnread
    }

    /// `speed` is event seconds per wall second; 0 plays as fast as possible.
    public init(config: SystemConfig, name: String, lines: [[UInt8]], speed: Double) {
        engine = FlowEngine(config: config, mode: .replay)
        self.name = name
        self.lines = lines
        self.speed = speed
        var decoder = FeedDecoder(units: config.units)
        // Each line is due when the clock reaches the latest plausible event time so far: a
        // late line is due with the line before it, and a line far in the future (which the
        // engine will reject) does not hold back the lines after it. Nor does a line the engine
        // holds (FlowEngine `held`) until the lines after it say its jump was real: it is fed
        // at once, and the engine runs no tick past its time before then.
        var times: [EventTime] = []
        times.reserveCapacity(lines.count)
        var last = EventTime(millis: 0)
        var first: EventTime?
        var held: (at: EventTime, feed: FeedKind)?
        let skew = config.ingest.maxFutureSkewReplay, margin = engine.jumpMargin
        for l in lines {
            if case .success(let m) = l.withUnsafeBufferPointer({ decoder.decode($0) }) {
                if first == nil {
                    first = m.at
                    last = m.at
                } else {
                    if let h = held, let real = FlowEngine.jumpIsReal(held: h, next: (m.at, m.feed), margin: margin) {
                        if real { last = max(last, h.at) }
                        held = nil
                    }
                    if m.at > last + margin && held == nil {
                        held = (m.at, m.feed)
                    } else if m.at > last && m.at <= last + skew {
                        last = m.at
                    }
                }
            }
            times.append(last)
        }
        // Lines before the first good one take its time.
        if let f = first { for k in times.indices where times[k].millis == 0 { times[k] = f } }
        self.times = times
        playhead = first ?? EventTime(millis: 0)
        start = playhead
    }

    /// The scenario's first event time: where the playhead starts.
    public private(set) var start: EventTime = EventTime(millis: 0)

    // MARK: - Rewinding

    /// Where a replay stood: the lines fed, the engine's clock and the playhead. An operator
    /// action is applied again at its position when the replay is rewound past it.
    public struct Position: Sendable, Equatable {
        fileprivate var next: Int
        fileprivate var now: EventTime?
        fileprivate var advancedTo: EventTime?
        fileprivate var playhead: EventTime
        fileprivate var finished: Bool
        /// The engine's clock then (the action's own time).
        public var at: EventTime { now ?? playhead }
    }

    public var position: Position {
        Position(next: next, now: engine.now, advancedTo: advancedTo, playhead: playhead, finished: finished)
    }

    /// An operator's action during a replay (an acknowledgement or a silence), with where the
    /// replay stood when it was taken.
    public struct Action: Sendable {
        public enum Kind: Sendable {
            case acknowledge(rule: String, site: String, by: String, note: String?)
            case silence(Silence)
        }
        public let kind: Kind
        public let position: Position
        public init(_ kind: Kind, at position: Position) {
            self.kind = kind
            self.position = position
        }
    }

    /// The same scenario played again from its start to the tick at or below `target`, as a
    /// headless replay would have it there (`target` before the start: the start). The
    /// `actions` taken at or before that instant are applied again where they were taken, each
    /// by `apply` (which also tells the notifiers); later ones are left out: the trainer has
    /// gone back to before them. It plays a tick at a time, calling `following` after each
    /// (and before each action), as the dashboard's own playing would have: the notifiers
    /// following the replay see its transitions and clock minute by minute, not all at once.
    /// Speed, pause and the wall clock carry over.
    public func rewound(to target: EventTime, actions: [Action],
                        following: (inout ReplayPlayer) -> Void = { _ in },
                        apply: (Action, inout ReplayPlayer) -> Void) -> ReplayPlayer {
        var p = ReplayPlayer(restarting: self)
        let tick = engine.config.tick
        let to = max(start, target.floored(to: tick))
        // No further than `lineLimit` lines: an action is applied after the lines read when it
        // was taken and no more (a frame's budget of lines, or the `.` key, can leave the lines
        // read other than "all those due by the clock").
        func playOn(to t: EventTime, lineLimit: Int = .max) {
            while p.playhead < t, !p.finished {
                let before = (p.next, p.playhead)
                p.play(upTo: min(t, p.playhead.floored(to: tick) + tick), maxLines: max(0, lineLimit - p.next))
                following(&p)
                if p.next >= lineLimit, p.next == before.0, p.playhead == before.1 { break }
            }
        }
        for a in actions where a.position.at <= to {
            playOn(to: a.position.at, lineLimit: a.position.next)
            p.catchUp(to: a.position)
            following(&p)
            apply(a, &p)
        }
        playOn(to: to)
        // Back to the start: the lines of its first instant, as the replay showed them when it
        // opened (the loop above had nothing to play: the playhead is already there).
        if p.engine.now == nil {
            p.play(upTo: to)
            while p.next < p.lines.count, p.engine.now == nil || p.times[p.next] <= p.start { p.step() }
            following(&p)
        }
        p.paused = paused
        p.lastWall = lastWall
        return p
    }

    /// Plays on to exactly where `position` stood: its lines fed, the engine's clock advanced to
    /// its instant (the same ticks: the engine runs each on its grid, in whatever steps).
    private mutating func catchUp(to position: Position) {
        while next < position.next, next < lines.count { feedNext() }
        if let now = position.now, let mine = engine.now, now > mine { engine.advance(to: now) }
        if position.finished, !finished { engine.finish(); finished = true }
        advancedTo = position.advancedTo
        playhead = max(playhead, position.playhead)
        collect()
    }

    public var isFinished: Bool { finished }
    /// How far the playhead is through the scenario's event time (the header's percentage): a
    /// share of the lines read as a share of the day, where a busy afternoon has most of them
    /// (11% at 22:09 of a 34-hour scenario).
    public var progress: Double {
        if finished || lines.isEmpty { return 1 }
        guard let first = times.first, let last = times.last, last > first else { return Double(next) / Double(lines.count) }
        return min(1, max(0, Double((playhead - first).millis) / Double((last - first).millis)))
    }
    public var lineCount: Int { lines.count }

    public var status: ReplayStatus {
        ReplayStatus(scenarioName: name, speed: speed, paused: paused, finished: finished, progress: progress)
    }

    public mutating func setPaused(_ p: Bool, wall: Int64) {
        paused = p
        lastWall = wall
    }

    /// The speeds `faster` and `slower` step through: round figures, the default ×300 among
    /// them. Doubling and halving from ×300 gave ×10.5 and ×5.3 on the screen (`x10` and `x5`
    /// on the status line) and, back up from ×1, 2, 4 ... 16384: ×300 was not reached again.
    public static let speedSteps: [Double] = [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21_600, 86_400]

    /// The next step above the speed (`max`, 0, goes to the fastest step).
    public mutating func faster() { speed = speed == 0 ? Self.maxSpeed : Self.speedSteps.first { $0 > speed } ?? Self.maxSpeed }
    /// The next step below the speed (`max`, 0, goes to the one below the fastest).
    public mutating func slower() {
        speed = speed == 0 ? Self.speedSteps[Self.speedSteps.count - 2] : Self.speedSteps.last { $0 < speed } ?? Self.minSpeed
    }

    /// Moves the playhead by the wall time elapsed since the last call and plays what it
    /// passed, within a budget of `maxLines` lines. Returns true if anything changed.
    public mutating func advance(wall: Int64, maxLines: Int = 20_000) -> Bool {
        defer { lastWall = wall }
        guard let last = lastWall else { return false }
        guard !paused, !finished else { return false }
        if speed == 0 {
            return play(upTo: EventTime(millis: .max), maxLines: maxLines)
        }
        let elapsed = max(0, wall - last)
        let target = playhead + Duration(millis: Int64(Double(elapsed) * speed))
        return play(upTo: target, maxLines: maxLines)
    }

    /// Plays every line at or before the tick boundary at or below `target`, then evaluates the
    /// ticks up to that boundary. Lines past it wait for the next tick (so ticks see exactly what
    /// they see in a headless replay).
    @discardableResult
    public mutating func play(upTo target: EventTime, maxLines: Int = .max) -> Bool {
        let tick = engine.config.tick
        let boundary = target.millis == .max ? EventTime(millis: .max) : target.floored(to: tick)
        var fed = 0
        var changed = false
        while next < lines.count, times[next] <= boundary, fed < maxLines {
            feedNext()
            fed += 1
            changed = true
        }
        if fed >= maxLines, next < lines.count, times[next] <= boundary {
            playhead = max(playhead, times[next - 1])
            collect()
            return true
        }
        if next >= lines.count {
            if !finished {
                engine.finish()
                finished = true
                changed = true
            }
            playhead = max(playhead, engine.now ?? playhead)
        } else {
            // The tick at the boundary too when a line fed sits exactly on it (an hourly bed
            // message at 09:00): the engine runs a tick only when a later instant comes, so the
            // `n` key stopped a tick late, at 09:01, with the 09:00 transitions. Once per boundary.
            if let now = engine.now, boundary.millis != .max,
               boundary > now || (boundary == now && advancedTo != boundary) {
                engine.advance(to: boundary)
                advancedTo = boundary
                changed = true
            }
            playhead = target.millis == .max ? playhead : max(playhead, target)
        }
        collect()
        return changed
    }

    /// Feeds the next line now (the `.` key), whatever the playhead or pause.
    @discardableResult
    public mutating func step() -> Bool {
        guard next < lines.count else {
            if !finished { engine.finish(); finished = true; collect(); return true }
            return false
        }
        feedNext()
        playhead = max(playhead, times[next - 1])
        if next >= lines.count { engine.finish(); finished = true }
        collect()
        return true
    }

    /// Plays on until at least one alert transition happens (the `n` key); the playhead stops
    /// there. Returns the transitions, or none if the scenario ended first.
    public mutating func runToNextTransition() -> [AlertTransition] {
        let before = recentTransitionsCount
        let tick = engine.config.tick
        while !finished {
            // One tick of event time at a time, so we stop at the tick that made the transition.
            let target = (engine.now ?? playhead).floored(to: tick) + tick
            _ = play(upTo: max(target, playhead.floored(to: tick) + tick))
            if recentTransitionsCount > before { break }
        }
        let made = recentTransitionsCount - before
        if made > 0, let t = recentTransitions.last?.at { playhead = max(playhead, t) }
        return Array(recentTransitions.suffix(min(made, recentTransitions.count)))
    }

    private var recentTransitionsCount = 0
    /// Transitions not yet taken by `drainNewTransitions()` (for notifiers following the replay).
    private var unread: [AlertTransition] = []
    public var collectUnread = false

    /// The transitions made since the last call (only when `collectUnread` is on).
    public mutating func drainNewTransitions() -> [AlertTransition] {
        defer { unread.removeAll(keepingCapacity: true) }
        return unread
    }

    private mutating func feedNext() {
        lines[next].withUnsafeBufferPointer { _ = engine.ingest($0) }
        next += 1
    }

    private mutating func collect() {
        guard engine.hasPendingTransitions else { return }
        let t = engine.drainTransitions()
        recentTransitionsCount += t.count
        recentTransitions += t
        if collectUnread { unread += t }
        if !keepAllTransitions, recentTransitions.count > Self.maxRecent { recentTransitions.removeFirst(recentTransitions.count - Self.maxRecent) }
    }
}
