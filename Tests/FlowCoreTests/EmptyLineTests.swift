import Testing
@testable import FlowCore

/// A line of only whitespace is no message, as a line with nothing in it is not: a replay (and
/// `check`, which reads a file as one) counts it apart, as live ingest does (`FeedLine.isEmpty`,
/// asked by every reader). A line of spaces was refused as malformed ("empty line at column 4").
@Suite struct EmptyLineTests {
    private func isEmpty(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { FeedLine.isEmpty($0) }
    }

    @Test func aReplayCountsALineOfOnlyWhitespaceApart() {
        let lines = [bedLine("AAA", at(0), occupied: 50), "", "    ", "\t \t", "  \r", "\r", bedLine("AAA", at(1), occupied: 51)]
        let (r, _) = replay(testConfig(), lines)
        #expect(r.rejections.map { HeadlessReplay.describe(line: $0.line, $0.rejection) } == [])
        #expect(r.engine.acceptedTotal == 2 && r.engine.rejectedTotal == 0)
        #expect(r.emptyLines == 5 && r.emptyLineNumbers == [2, 3, 4, 5, 6])
    }

    /// Empty is what the decoder calls an empty line, nothing more: a line the predicate lets
    /// through is judged by the decoder, so a control byte or a non-breaking space is refused
    /// as before, and a line with an object after spaces is a message.
    @Test func anEmptyLineIsExactlyWhatTheDecoderCallsOne() {
        var decoder = FeedDecoder(units: testConfig().units)
        for s in ["", "\r", " ", "\t", "    ", " \t\r\t ", "\r\r"] {
            #expect(isEmpty(s), "\(s.debugDescription)")
        }
        for s in [" ", "\t", "    ", " \t\r\t ", "\r\r"] {
            var line = s
            let what = line.withUTF8 { p -> String in
                if case .failure(let r) = decoder.decode(p) { return r.description }
                return "decoded"
            }
            #expect(what.contains("empty line at column"), "\(s.debugDescription): \(what)")
        }
        for s in ["{}", " {}", "\t{", "x", " x", "\u{0B}", "\u{0C}", " \u{0}", "\u{A0}", "  \u{A0}"] {
            #expect(!isEmpty(s), "\(s.debugDescription)")
        }
        let lines = [bedLine("AAA", at(0), occupied: 50), "  \u{0B}", "   " + bedLine("AAA", at(1), occupied: 51)]
        let (r, _) = replay(testConfig(), lines)
        #expect(r.emptyLines == 0 && r.engine.acceptedTotal == 2 && r.rejections.map(\.line) == [2])
    }
}
