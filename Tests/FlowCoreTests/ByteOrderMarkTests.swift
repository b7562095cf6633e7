import Testing
@testable import FlowCore

/// A line starting with a UTF-8 byte-order mark (as some editors save a file) is refused,
/// named for what it is: the live service and `check` say the same.
@Suite struct ByteOrderMarkTests {
    @Test func aLineStartingWithABOMIsRefusedNamingTheBOM() {
        var decoder = FeedDecoder(units: testConfig().units)
        let line = "\u{FEFF}" + bedLine("AAA", at(0), occupied: 50)
        #expect(Array(line.utf8.prefix(3)) == [0xEF, 0xBB, 0xBF])
        guard case .failure(let r) = decoder.decode(line) else { Issue.record("accepted a line with a BOM"); return }
        #expect(r.reason == .malformed)
        #expect(r.detail == "line starts with a UTF-8 byte-order mark (EF BB BF); save the file without a BOM (as UTF-8, not 'UTF-8 with BOM')",
                "\(r.detail)")
        // The engine (live ingest, replay, check) gives the same rejection.
        let engine = FlowEngine(config: testConfig())
        guard case .rejected(let e) = engine.ingest(line) else { Issue.record("the engine accepted it"); return }
        #expect(e.reason == .malformed && e.detail.contains("byte-order mark"), "\(e)")
        // Elsewhere in a line it is no BOM: still "not a JSON object" or an invalid value.
        guard case .failure(let inside) = decoder.decode(" \u{FEFF}{}") else { Issue.record("accepted"); return }
        #expect(inside.detail == "not a JSON object at column 2", "\(inside.detail)")
    }
}
