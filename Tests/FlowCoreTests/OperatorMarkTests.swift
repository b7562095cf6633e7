import Testing
@testable import FlowCore

/// `OperatorAction.parseMark` reads clock and evaluate marks without the general parser; it must
/// agree with `OperatorAction.parse` on every line it accepts and leave every other line to it.
@Suite struct OperatorMarkTests {
    static func mark(_ line: String) -> OperatorAction? {
        var s = line
        return s.withUTF8 { OperatorAction.parseMark($0) }
    }

    static let marks = [
        OperatorAction(id: "clock-1767600360012", at: EventTime(millis: 1_767_600_360_012), kind: .clock),
        OperatorAction(id: "evaluate-1767600361207", at: EventTime(millis: 1_767_600_361_207), kind: .evaluate),
        OperatorAction(id: "evaluate-1767600420000", at: EventTime(millis: 1_767_600_420_000), kind: .evaluate),
    ]

    @Test("the marks urgentflow writes are read as the general parser reads them")
    func writtenMarks() throws {
        for m in Self.marks {
            #expect(Self.mark(m.jsonLine) == m)
            guard case .success(let general)? = OperatorAction.parse(m.jsonLine) else { Issue.record("general parser refused \(m.jsonLine)"); continue }
            #expect(general == m)
        }
        // Not marks: other operator actions, feed data, other shapes of the same content.
        let ack = OperatorAction(id: "ack-1", at: EventTime(millis: 1_767_600_000_000), kind: .acknowledge(rule: "r", site: "RWH", by: "A", note: nil))
        #expect(Self.mark(ack.jsonLine) == nil)
        #expect(Self.mark(#"{"feed":"bed","id":"x","at":"2026-01-05T08:00:00Z","site":"RWH","ga_core_open":1,"ga_core_occupied":1}"#) == nil)
        #expect(Self.mark(#"{"feed":"operator", "id":"clock-1","at":"2026-01-05T08:00:00Z","kind":"clock"}"#) == nil)
        #expect(Self.mark(#"{"feed":"operator","id":"clock-1","at":"2026-01-05T08:00:00Z","kind":"clock"} "#) == nil)
    }

    @Test("every one-byte change of a mark: read as the general parser reads it, or left to it")
    func mutatedMarks() throws {
        let replacements: [UInt8] = [0x22, 0x5C, 0x20, 0x2C, 0x7D, 0x30, 0x39, 0x5A, 0x61, 0x00, 0xFF]
        var accepted = 0, left = 0
        for m in Self.marks {
            let bytes = Array(m.jsonLine.utf8)
            var variants: [[UInt8]] = []
            for i in bytes.indices {
                var d = bytes; d.remove(at: i); variants.append(d)
                for r in replacements where r != bytes[i] { var v = bytes; v[i] = r; variants.append(v) }
            }
            for v in variants {
                let fast = v.withUnsafeBufferPointer { OperatorAction.parseMark($0) }
                guard let fast else { left += 1; continue }
                accepted += 1
                let general = v.withUnsafeBufferPointer { OperatorAction.parse($0) }
                guard case .success(let g)? = general else {
                    Issue.record("fast path accepted what the general parser refuses: \(String(decoding: v, as: UTF8.self))"); continue
                }
                #expect(g == fast, "\(String(decoding: v, as: UTF8.self))")
            }
        }
        #expect(accepted > 0 && left > 0)
    }
}
