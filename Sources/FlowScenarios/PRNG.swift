/// SplitMix64 (Steele, Lea and Flood 2014): a tiny, fast, well-mixed 64-bit generator with an
/// explicit seed. Every scenario draws from one of these, in a fixed order, so the same name and
/// seed give byte-identical output on every run and machine. `SystemRandomNumberGenerator` and
/// the standard library's `random(in:using:)` (whose algorithm may change between Swift releases)
/// are deliberately not used.
public struct SplitMix64: Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    @inline(__always)
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform in [a, b).
    @inline(__always)
    public mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * uniform() }

    /// Uniform integer in the closed range lo...hi (a negligible modulo bias is accepted).
    @inline(__always)
    public mutating func int(_ lo: Int, _ hi: Int) -> Int {
        lo + Int(next() % UInt64(hi - lo + 1))
    }

    @inline(__always)
    public mutating func chance(_ p: Double) -> Bool { uniform() < p }

    /// An integer whose expectation is `x`: the integer part plus one with the fractional
    /// part's probability (low-variance rounding).
    @inline(__always)
    public mutating func roundStochastic(_ x: Double) -> Int {
        if x <= 0 { return 0 }
        let f = x.rounded(.down)
        return Int(f) + (uniform() < x - f ? 1 : 0)
    }

    /// Picks an index with the given (non-negative) weights.
    public mutating func pick(_ weights: [Double]) -> Int {
        var total = 0.0
        for w in weights { total += w }
        var u = uniform() * total
        for (i, w) in weights.enumerated() {
            if u < w { return i }
            u -= w
        }
        return weights.count - 1
    }
}

/// FNV-1a of a string, used to give every scenario its own stream for the same seed.
func fnv1a(_ s: String) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
    return h
}
