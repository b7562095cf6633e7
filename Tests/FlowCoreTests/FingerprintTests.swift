import Testing
@testable import FlowCore

/// `Fingerprint`: a message id's fingerprint stands for the id in the de-duplication table, so
/// two ids with one fingerprint would refuse a new message as a duplicate.
@Suite struct FingerprintTests {
    /// Random bytes at every length from 0 to 40 and at every offset of a word: the word loads
    /// (whole words, the overlapping last word, the zero-padded short string) give what the
    /// byte-at-a-time reference gives, and read nothing outside the range.
    @Test func sameAsTheByteWiseReference() {
        var rng = SplitMix(seed: 7)
        let buffer = (0..<96).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        buffer.withUnsafeBufferPointer { p in
            for length in 0...40 {
                for offset in 0..<8 {
                    for seed: UInt64 in [Fingerprint.defaultSeed, 0x4D5A_2DA5_1DE1_AA47] {
                        let got = Fingerprint.bytes(p, offset, offset + length, seed: seed)
                        #expect(got == RefFingerprint.bytes(p, offset, offset + length, seed: seed), "length \(length) at \(offset)")
                    }
                }
            }
        }
    }

    /// Reads only its range: the same bytes give the same fingerprint whatever surrounds them.
    @Test func onlyTheRangeCounts() {
        for length in 1...24 {
            let id = (0..<length).map { UInt8(ascii: "a") + UInt8($0 % 26) }
            let a = ([UInt8](repeating: 0, count: 9) + id + [UInt8](repeating: 0xFF, count: 9))
            let b = ([UInt8](repeating: 0x22, count: 5) + id + [UInt8](repeating: 0x00, count: 3))
            let fa = a.withUnsafeBufferPointer { Fingerprint.bytes($0, 9, 9 + length) }
            let fb = b.withUnsafeBufferPointer { Fingerprint.bytes($0, 5, 5 + length) }
            #expect(fa == fb, "length \(length)")
        }
    }

    /// The shapes real feeds use (a site, a feed and a counter; pseudonymous hex keys; a
    /// string and the same with trailing zero bytes, which zero-padding could confuse) give as
    /// many fingerprints as strings.
    @Test func realisticIDsDoNotCollide() {
        var seen = Set<UInt64>()
        var count = 0
        func add(_ s: String) {
            count += 1
            seen.insert(Fingerprint.of(s))
        }
        for site in ["RWH", "RWG", "RQW", "RC9", "EEAST"] {
            for n in 0..<40_000 { add("\(site)-amb-\(n)") }
        }
        for n in 0..<50_000 { add("pk-" + String(UInt32(truncatingIfNeeded: n &* 2_654_435_761), radix: 16)) }
        for length in 1...16 {
            add(String(repeating: "a", count: length))
            add(String(repeating: "a", count: length) + "\u{0}")
            add(String(repeating: "\u{0}", count: length))
        }
        #expect(seen.count == count)
    }

    /// Every bit of the input moves about half the bits of the output (a 22-byte id, each of
    /// its 176 bits flipped in turn): no bit is ignored, and none moves only a few.
    @Test func everyInputBitMovesHalfTheOutput() {
        let id = Array("RWG-ambulance-00412345".utf8)
        let base = id.withUnsafeBufferPointer { Fingerprint.bytes($0, 0, $0.count) }
        var total = 0
        for bit in 0..<(id.count * 8) {
            var flipped = id
            flipped[bit / 8] ^= UInt8(1 << (bit % 8))
            let f = flipped.withUnsafeBufferPointer { Fingerprint.bytes($0, 0, $0.count) }
            let moved = (f ^ base).nonzeroBitCount
            #expect(moved >= 12, "bit \(bit) moved only \(moved) bits")
            total += moved
        }
        let mean = Double(total) / Double(id.count * 8)
        #expect(mean > 29 && mean < 35, "mean \(mean) bits moved")
    }

    /// Each feed's ids are fingerprinted with its own seed.
    @Test func feedsHaveTheirOwnSeeds() {
        let id = Array("ABC-1".utf8)
        let prints = id.withUnsafeBufferPointer { p in
            [FeedKind.bed, .dtoc, .nhs111, .ambulance].map { Fingerprint.of(feed: $0, p.baseAddress!, 0, p.count) }
        }
        #expect(Set(prints).count == 4)
    }
}
