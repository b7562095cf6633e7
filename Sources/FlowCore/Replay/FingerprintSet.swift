import CCacheHints

/// A set of 64-bit message-id fingerprints (`FeedMessage.idHash`), for the de-duplicator.
///
/// Open addressing with linear probing in a power-of-two table of the values themselves, and
/// deletion by shifting the following run back (no tombstones: the de-duplicator removes as
/// many ids as it inserts, and tombstones would fill the table). The fingerprints are already
/// hashes of the ids (FNV-1a), so a multiply by a salted odd constant places them; a
/// `Set<UInt64>` hashed each one again through `Hasher` (SipHash) at every insert, look-up and
/// removal, about 5% of a replay with rules. The salt is random per set, so that ids chosen to
/// collide in one run's table do not in another's.
///
/// The table is memory of its own (`uf_table_alloc`: huge pages when large), so that a `Probe`
/// can say where a fingerprint's slot is before the engine looks it up (the decoder prefetches
/// it: CCacheHints). A copy of the set shares the table until either is changed.
struct FingerprintSet: Sendable {
    private final class Table: @unchecked Sendable {
        let slots: UnsafeMutablePointer<UInt64>
        let count: Int
        init(count: Int) {
            guard let p = uf_table_alloc(count) else { fatalError("out of memory for a de-duplication table of \(count) slots") }
            slots = p
            self.count = count
        }
        deinit { uf_table_free(slots) }
    }
    /// The table; 0 marks an empty slot (a fingerprint of 0 is kept in `hasZero`).
    private var table: Table
    private var hasZero = false
    /// 64 - log2(table.count): the top bits of the mixed value are the home slot.
    private var shift: UInt64
    private let salt = UInt64.random(in: .min ... .max)
    private(set) var count = 0

    init() {
        table = Table(count: 16)
        shift = 60
    }

    @inline(__always) private static func home(_ h: UInt64, salt: UInt64, shift: UInt64) -> Int {
        Int(truncatingIfNeeded: ((h ^ salt) &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }
    @inline(__always) private func home(_ h: UInt64) -> Int { Self.home(h, salt: salt, shift: shift) }

    /// Where a fingerprint's home slot is in the table as it is now: a hint only (a stale probe
    /// prefetches memory no longer used, which changes nothing).
    struct Probe: @unchecked Sendable {   // a hint: the address is never read through
        fileprivate var slots: UnsafeMutablePointer<UInt64>?
        fileprivate var shift: UInt64 = 63
        fileprivate var salt: UInt64 = 0
        static let none = Probe()
        var isActive: Bool { slots != nil }
        @inline(__always) func prefetch(_ h: UInt64) {
            guard let slots else { return }
            uf_prefetch(slots + FingerprintSet.home(h, salt: salt, shift: shift))
        }
    }
    /// `Probe.none` while the table is small enough to stay in the cache (at the system's real
    /// pace, about 2,300 ids in 48 hours): a prefetch there only costs instructions.
    var probe: Probe { table.count < Self.prefetchFrom ? .none : Probe(slots: table.slots, shift: shift, salt: salt) }
    /// 32,768 slots, 256 KB.
    static let prefetchFrom = 1 << 15

    func contains(_ h: UInt64) -> Bool {
        if h == 0 { return hasZero }
        let slots = table.slots
        let mask = table.count - 1
        var i = home(h)
        while true {
            let s = slots[i]
            if s == h { return true }
            if s == 0 { return false }
            i = (i + 1) & mask
        }
    }

    /// The table's size in slots (a power of two; at most half of them are used).
    var slotCount: Int { table.count }

    /// Whether one more fingerprint would take the table past half full (`insert` then doubles
    /// it, unless `reserve` has made room first).
    var isFull: Bool { (count + 1) * 2 > table.count }

    /// Room for `n` fingerprints at most half full, in one rehash: a table that will hold
    /// half a million ids grows to its size at once rather than through every power of two
    /// (`Deduplicator.insert`).
    mutating func reserve(_ n: Int) {
        var size = table.count
        while size < n * 2 { size *= 2 }
        if size > table.count { rehash(into: size) }
    }

    /// The table is this set's alone before it is changed.
    @inline(__always) private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&table) { rehash(into: table.count) }
    }

    mutating func insert(_ h: UInt64) {
        if h == 0 {
            if !hasZero { hasZero = true; count += 1 }
            return
        }
        if isFull { rehash(into: table.count * 2) }   // at most half full: short probe runs
        makeUnique()
        let slots = table.slots
        let mask = table.count - 1
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
        makeUnique()
        let slots = table.slots
        let mask = table.count - 1
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

    /// A new table of `size` slots (a power of two) holding the same fingerprints.
    private mutating func rehash(into size: Int) {
        let old = table
        table = Table(count: size)
        shift = UInt64(64 - size.trailingZeroBitCount)
        let slots = table.slots
        let mask = size - 1
        for k in 0..<old.count {
            let h = old.slots[k]
            guard h != 0 else { continue }
            var i = home(h)
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = h
        }
    }
}
