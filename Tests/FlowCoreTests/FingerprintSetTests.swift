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
