import Testing
@testable import FlowCore

/// The de-duplication table once it is large enough to be prefetched (32,768 slots, more than
/// 8,192 ids in the window): the engine then fingerprints each line's id before the decoder
/// scans the line (`DedupLookahead.peek`), and the decoder takes that fingerprint when it finds
/// the id at the same place. Duplicates must be refused exactly as with a small table.
@Suite struct DedupLookaheadTests {
    static func line(id: String, _ t: EventTime, occupied: Int, idFirst: Bool = false) -> String {
        let rest = "\"at\":\"\(iso(t))\",\"site\":\"AAA\",\"ga_core_open\":500,\"ga_core_occupied\":\(occupied)}"
        return idFirst ? "{\"id\":\"\(id)\",\"feed\":\"bed\"," + rest : "{\"feed\":\"bed\",\"id\":\"\(id)\"," + rest
    }

    @Test func duplicatesAreRefusedOnceTheTableIsPrefetched() {
        let engine = FlowEngine(config: testConfig())
        // 20,000 ids of one width: each line's id sits where the line before had its own, so
        // a fingerprint kept from the line before would call every line a duplicate.
        let n = 20_000
        for k in 0..<n {
            let t = t0 + .seconds(Int64(k))
            #expect(engine.ingest(Self.line(id: "amb-\(100_000 + k)", t, occupied: 300 + k % 100)) == .accepted)
        }
        #expect(engine.acceptedTotal == n)
        let t = t0 + .seconds(Int64(n))
        // The first id again, in the usual order (the fingerprint made before the scan) and
        // with the id first (the decoder's own), and the latest id again.
        for dup in [Self.line(id: "amb-100000", t, occupied: 1),
                    Self.line(id: "amb-100000", t, occupied: 2, idFirst: true),
                    Self.line(id: "amb-\(100_000 + n - 1)", t, occupied: 3)] {
            guard case .rejected(let r) = engine.ingest(dup) else { Issue.record("accepted: \(dup)"); continue }
            #expect(r.reason == .duplicateID && r.field == "id")
        }
        // An id first seen in the other order is a duplicate in the usual order, too.
        #expect(engine.ingest(Self.line(id: "other-1", t, occupied: 4, idFirst: true)) == .accepted)
        guard case .rejected(let r) = engine.ingest(Self.line(id: "other-1", t, occupied: 5)) else {
            Issue.record("the id-first line's id was not known to the usual order"); return
        }
        #expect(r.reason == .duplicateID)
        // Ids the look before the scan leaves to the decoder (an escape, a non-ASCII letter), and
        // one it reads over many words: accepted once, refused the second time.
        for (k, id) in ["esc\\\"aped-1", "Ysbyty-Gwynedd-\u{e2}-7", String(repeating: "long-", count: 20)].enumerated() {
            #expect(engine.ingest(Self.line(id: id, t, occupied: 10 + k)) == .accepted, "\(id)")
            guard case .rejected(let again) = engine.ingest(Self.line(id: id, t, occupied: 20 + k)) else {
                Issue.record("\(id) accepted twice"); continue
            }
            #expect(again.reason == .duplicateID)
        }
        // A line the look cannot read (a non-ASCII letter) right after one it read, its id of
        // the same length at the same place: the decoder fingerprints it itself, not taking the
        // line before's.
        #expect(engine.ingest(Self.line(id: "same-length-1", t, occupied: 30)) == .accepted)
        #expect(engine.ingest(Self.line(id: "same-lengt\u{e9}-", t, occupied: 31)) == .accepted)
        // A new id is still accepted after the refusals.
        #expect(engine.ingest(Self.line(id: "amb-\(100_000 + n)", t, occupied: 6)) == .accepted)
        #expect(engine.acceptedTotal == n + 7)
    }
}
