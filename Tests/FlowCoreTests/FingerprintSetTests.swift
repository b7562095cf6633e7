import Testing
@testable import FlowCore

@Suite struct FingerprintSetTests {
    /// Random inserts, removals and look-ups agree with a `Set<UInt64>` throughout; values from a
    /// small range (so removals hit and runs form) and 0 included.
    @Test func agreesWithASet() {
        var rng = SystemRandomNumberGenerator()
        for range in [UInt64(0)...40, 0...5_000, UInt64.max - 3_000...UInt64.max] {
            var set = FingerprintSet(), reference = Set<UInt64>()
            for _ in 0..<60_000 {
                let h = UInt64.random(in: range, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: set.insert(h); reference.insert(h)
                case 1: set.remove(h); reference.remove(h)
                default: break
                }
                #expect(set.contains(h) == reference.contains(h))
                #expect(set.count == reference.count)
            }
            for h in range.prefix(6_000) where set.contains(h) != reference.contains(h) {
                Issue.record("disagrees on \(h)")
            }
        }
    }

    /// The table is memory of its own (CCacheHints), shared by copies until one changes: a copy
    /// changed leaves the original as it was, and the other way round.
    @Test func aCopyIsAValue() {
        var a = FingerprintSet()
        for h in UInt64(1)...100 { a.insert(h) }
        var b = a
        b.remove(5)
        b.insert(1_000)
        #expect(a.contains(5) && !a.contains(1_000) && a.count == 100)
        #expect(!b.contains(5) && b.contains(1_000) && b.count == 100)
        var c = a
        for h in UInt64(101)...5_000 { c.insert(h) }   // grows: a new table
        a.remove(7)
        #expect(c.contains(7) && c.count == 5_000 && !a.contains(7) && a.count == 99)
    }

    /// Slots are prefetched only once the table outgrows the cache (32,768 slots): below that a
    /// prefetch is instructions for nothing.
    @Test func aSmallTableIsNotPrefetched() {
        var set = FingerprintSet()
        for h in UInt64(1)...1_000 { set.insert(h) }
        #expect(!set.probe.isActive)
        for h in UInt64(1_001)...20_000 { set.insert(h) }   // at most half full: 65,536 slots
        #expect(set.probe.isActive)
    }
}

@Suite struct DeduplicatorGrowthTests {
    /// Room made for many ids in one rehash keeps every id, and a smaller request changes nothing.
    @Test func reserveKeepsEveryFingerprint() {
        var set = FingerprintSet()
        for h in UInt64(1)...100 { set.insert(h) }
        set.reserve(10_000)
        #expect(set.slotCount == 32_768)   // the power of two at least twice 10,000
        #expect((UInt64(1)...100).allSatisfy { set.contains($0) } && set.count == 100 && !set.contains(101))
        set.reserve(50)
        #expect(set.slotCount == 32_768)
    }

    /// The sizes the table takes while `ids` go in, one a second from `start`, with the
    /// window expiring as the engine does.
    static func sizes(window: Duration, capacity: Int, ids: Int, burst: Int = 0) -> [Int] {
        var d = Deduplicator(window: window, capacity: capacity)
        var sizes = [d.slotCount]
        let start = EventTime(seconds: 1_700_000_000)
        for k in 0..<(burst + ids) {
            let t = start + .seconds(Int64(max(0, k - burst)))
            let h = UInt64(k + 1) &* 0x9E37_79B9_7F4A_7C15
            #expect(!d.contains(h))
            d.insert(h, at: t)
            d.expire(before: t - window)
            #expect(d.contains(h))
            if d.slotCount != sizes.last { sizes.append(d.slotCount) }
        }
        return sizes
    }

    /// While the window fills at a steady rate, the table goes from the size an eighth of the
    /// window needed straight to the size the whole window needs (28,800 ids of an 8-hour
    /// window at one a second: 65,536 slots), not through every power of two; and it stays
    /// there once the window is full and ids expire as fast as they come.
    @Test func theTableGrowsToTheWindowsSizeInOneStep() {
        let sizes = Self.sizes(window: .hours(8), capacity: 500_000, ids: 40_000)
        #expect(sizes == [16, 32, 64, 128, 256, 512, 1_024, 2_048, 4_096, 8_192, 65_536])
    }

    /// The projection is bounded by the configured capacity (the table need hold no more).
    @Test func theProjectionStopsAtTheCapacity() {
        let sizes = Self.sizes(window: .hours(8), capacity: 6_000, ids: 10_000)
        #expect(sizes.last == 16_384)   // twice 6,000, as a power of two
        #expect(!sizes.contains(32_768))
    }

    /// A window shorter than an eighth of a second's worth of milliseconds (none is configured
    /// so, but the type allows it) with every id at one instant: no rate, no division by a
    /// span of zero; the table doubles.
    @Test func idsAtOneInstantInATinyWindowAreNotProjected() {
        #expect(Self.sizes(window: Duration(millis: 5), capacity: 500_000, ids: 0, burst: 100) == [16, 32, 64, 128, 256])
    }

    /// A burst at one instant says nothing of the window's rate: the table doubles as it needs.
    @Test func aBurstAtTheStartIsNotProjected() {
        let sizes = Self.sizes(window: .hours(48), capacity: 500_000, ids: 10, burst: 20_000)
        #expect(sizes.last == 65_536)   // 20,010 ids at most half full
        #expect(sizes == [16, 32, 64, 128, 256, 512, 1_024, 2_048, 4_096, 8_192, 16_384, 32_768, 65_536])
    }
}
