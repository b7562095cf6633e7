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
}
