import Foundation
import Testing
@testable import FlowCore

/// Every input the fuzzers (Fuzz/run.sh) ever crashed on, plus hand-made nasty inputs, replayed
/// through the same code paths: each must end as accepted or rejected (or a loaded or refused
/// configuration) with a reason, never a crash.
@Suite struct FuzzRegressionTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("FuzzRegressions")

    static var files: [URL] {
        ((try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? [])
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test func thereAreRegressionInputs() {
        #expect(Self.files.count >= 5)
    }

    @Test func feedInputsEndAcceptedOrRejectedWithAReason() throws {
        let engine = FlowEngine(config: testConfig(rules: [occupancyRule()]))
        for file in Self.files where file.pathExtension != "yaml" {
            let data = try Data(contentsOf: file)
            let outcome = data.withUnsafeBytes { engine.ingest($0.bindMemory(to: UInt8.self)) }
            if case .rejected(let r) = outcome { #expect(!r.description.isEmpty, "\(file.lastPathComponent)") }
            _ = engine.snapshot()
        }
        #expect(engine.acceptedTotal + engine.rejectedTotal >= 5)
    }

    @Test func configInputsLoadOrNameTheirProblems() throws {
        for file in Self.files where file.pathExtension == "yaml" {
            let text = String(decoding: try Data(contentsOf: file), as: UTF8.self)
            do {
                _ = try ConfigLoader.load(yaml: text, file: file.lastPathComponent)
            } catch {
                #expect(!error.problems.isEmpty)
            }
        }
    }
}
