/// A set of 64-bit message-id fingerprints (`FeedMessage.idHash`), for the de-duplicator.
///
/// Open addressing with linear probing in a power-of-two table of the values themselves, and
/// deletion by shifting the following run back (no tombstones: the de-duplicator removes as
/// many ids as it inserts, and tombstones would fill the table). The fingerprints are already
/// hashes of the ids (FNV-1a), so a multiply by a salted odd constant places them; a
/// `Set<UInt64>` hashed each one again through `Hasher` (SipHash) at every insert, look-up and
/// removal, about 5% of a replay with rules. The salt is random per set, so that ids chosen to
/// collide in one run's table do not in another's.
struct FingerprintSet: Sendable {
    /// The table; 0 marks an empty slot (a fingerprint of 0 is kept in `hasZero`).
    private var slots: [UInt64]
    private var hasZero = false
    /// 64 - log2(slots.count): the top bits of the mixed value are the home slot.
    private var shift: UInt64
    private let salt = UInt64.random(in: .min ... .max)
    private(set) var count = 0

    init() {
        slots = Array(repeating: 0, count: 16)
        shift = 60
    }

    @inline(__always) private func home(_ h: UInt64) -> Int {
        Int(truncatingIfNeeded: ((h ^ salt) &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    func contains(_ h: UInt64) -> Bool {
        if h == 0 { return hasZero }
        let mask = slots.count - 1
        var i = home(h)
        while true {
            let s = slots[i]
            if s == h { return true }
            if s == 0 { return false }
            i = (i + 1) & mask
        }
    }

    mutating func insert(_ h: UInt64) {
        if h == 0 {
            if !hasZero { hasZero = true; count += 1 }
            return
        }
        if (count + 1) * 2 > slots.count { grow() }   // at most half full: short probe runs
        let mask = slots.count - 1
        var i = home(h)
        while true {
            let s = slots[i]
            if s == h { return }
            if s == 0 { slots[i] = h; count += 1; return }
            i = (i + 1) & mask
        }
    }

    mutating func remove(_ h: UInt64) {
        if h == 0 {
            if hasZero { hasZero = false; count -= 1 }
            return
        }
        let mask = slots.count - 1
        var i = home(h)
        while true {
            let s = slots[i]
            if s == 0 { return }
            if s == h { break }
            i = (i + 1) & mask
        }
        // Empty slot `i`, moving back into it each later value of the run whose home slot is not
        // cyclically in (i, j] (a value at home in that range would no longer be found).
        var j = i
        while true {
            j = (j + 1) & mask
            let s = slots[j]
            if s == 0 { break }
            let k = home(s)
            let stays = i <= j ? (k > i && k <= j) : (k > i || k <= j)
            if !stays { slots[i] = s; i = j }
        }
        slots[i] = 0
        count -= 1
    }

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: 0, count: old.count * 2)
        shift -= 1
        let mask = slots.count - 1
        for h in old where h != 0 {
            var i = home(h)
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = h
        }
    }
}
