import FlowCore
import Foundation
import Testing

/// The published JSON Schema (docs/feed-contract.schema.json) agrees with the decoder: every
/// line urgentflow accepts from the bundled scenarios, and every example in the contract
/// reference, is valid against the schema. Checked with Python's `jsonschema` (in the machine
/// image; `pip install jsonschema` elsewhere), so the schema is tested as a provider would use it.
@Suite struct ContractSchemaTests {
    static let root = ScenarioTimelineTests.root

    @Test func acceptedLinesAndContractExamplesAreValidAgainstTheSchema() throws {
        let config = try ScenarioTimelineTests.config()
        var accepted: [String] = []
        for name in ScenarioTimelineTests.names {
            let engine = FlowEngine(config: config)
            for line in try ScenarioTimelineTests.lines(name) {
                if case .accepted = engine.ingest(line) { accepted.append(line) }
            }
        }
        let contract = try String(contentsOf: Self.root.appendingPathComponent("docs/feed-contract.md"), encoding: .utf8)
        // Operator lines (acknowledgements, clock marks) are written by urgentflow into its own journal, not by feed providers.
        let examples = contract.split(separator: "\n").map(String.init).filter { $0.hasPrefix("{\"feed\":") && !$0.hasPrefix("{\"feed\":\"operator\"") }
        #expect(examples.count >= 9)
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("schema-lines-\(getpid()).jsonl")
        try (accepted + examples).joined(separator: "\n").write(to: input, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: input) }
        let script = """
        import json, sys
        try:
            import jsonschema
        except ImportError:
            print("python3 has no jsonschema module: pip install jsonschema"); sys.exit(2)
        schema = json.load(open(sys.argv[1]))
        v = jsonschema.Draft202012Validator(schema)
        bad = 0
        for n, line in enumerate(open(sys.argv[2]), 1):
            errors = list(v.iter_errors(json.loads(line)))
            if errors:
                bad += 1
                if bad <= 5: print(f"line {n}: {errors[0].message[:160]}: {line[:160]}")
        print(f"checked {n}, invalid {bad}")
        sys.exit(1 if bad else 0)
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, Self.root.appendingPathComponent("docs/feed-contract.schema.json").path, input.path]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(text)")
        #expect(text.contains("checked \(accepted.count + examples.count)"), "\(text)")
    }
}
