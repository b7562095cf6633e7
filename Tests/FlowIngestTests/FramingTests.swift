import Testing
@testable import FlowIngest

@Suite struct FramingTests {
    @Test func splitsOnNewlineAndStripsOneCarriageReturn() {
        #expect(frame("a\r\nb\nc\r\r\n") == ["1:a", "2:b", "3:c\r"])
    }

    @Test func sameResultWhateverTheChunking() {
        let input = "{\"feed\":\"bed\"}\r\n\nsecond line\nthird\r\n"
        let whole = frame(input)
        #expect(whole == ["1:{\"feed\":\"bed\"}", "2:", "3:second line", "4:third"])
        for chunk in 1...7 { #expect(frame(input, chunk: chunk) == whole) }
    }

    @Test func overLongLineIsRejectedAndTheStreamResynchronises() {
        let long = String(repeating: "x", count: 40)
        let input = "short\n" + long + "\nok\n12345678\r\n123456789\n"
        for chunk in [1, 3, 5, 64] {
            #expect(frame(input, max: 8, chunk: chunk)
                    == ["1:short", "2:TOO_LONG(40)", "3:ok", "4:12345678", "5:TOO_LONG(9)"])
        }
    }

    @Test func overLongLineNeverBufferedBeyondTheLimit() {
        var framer = LineFramer(maxLineLength: 16)
        let chunk = [UInt8](repeating: 0x41, count: 1000)
        for _ in 0..<100 { framer.feed(chunk) { _ in Issue.record("no line expected") } }
        #expect(framer.pendingByteCount == 100_000)  // counted, not stored
        var events: [String] = []
        framer.feed(Array("\nnext\n".utf8)) { ev in
            switch ev {
            case let .line(raw, n): events.append("\(n):\(String(decoding: raw, as: UTF8.self))")
            case let .tooLong(n, len): events.append("\(n):TOO_LONG(\(len))")
            }
        }
        #expect(events == ["1:TOO_LONG(100000)", "2:next"])
    }

    @Test func lastLineWithoutNewlineIsDeliveredAtEndOfStream() {
        #expect(frame("a\nb") == ["1:a", "2:b"])
        #expect(frame("a\nb", finish: false) == ["1:a"])
        #expect(frame("a\nb\r") == ["1:a", "2:b"])
    }

    @Test func droppingAPartialLineAndReset() {
        var framer = LineFramer(maxLineLength: 100)
        framer.feed(Array("one\ntw".utf8)) { _ in }
        #expect(framer.hasPendingLine)
        #expect(framer.dropPending() == 2)
        #expect(!framer.hasPendingLine)
        #expect(framer.lineNumber == 1)
        framer.reset()
        var got: [Int] = []
        framer.feed(Array("x\n".utf8)) { if case let .line(_, n) = $0 { got.append(n) } }
        #expect(got == [1])
    }

    @Test func bytesPassThroughUntouched() {
        let raw: [UInt8] = [0xFF, 0xFE, 0x00, 0x41, 0x0A]
        var framer = LineFramer()
        var seen: [[UInt8]] = []
        framer.feed(raw) { if case let .line(b, _) = $0 { seen.append(Array(b)) } }
        #expect(seen == [[0xFF, 0xFE, 0x00, 0x41]])
    }

    @Test func daysArithmetic() {
        #expect(DayString.dayNumber("1970-01-01") == 0)
        #expect(DayString.dayNumber("2026-01-05") == 20458)
        #expect(DayString.string(dayNumber: 20458) == "2026-01-05")
        #expect(DayString.string(dayNumber: DayString.dayNumber("2024-02-29")! + 1) == "2024-03-01")
        #expect(DayString.dayNumber("2026-1-05") == nil)
    }

    @Test("a line's source in short: a file's name without its directory, other sources as they are")
    func shortSourceNames() {
        #expect(LineOrigin(source: LineOrigin.fileSource("/var/feeds/huc-intervals.jsonl"), line: 4).shortSource == "huc-intervals.jsonl")
        #expect(LineOrigin(source: LineOrigin.fileSource("beds.jsonl"), line: 1).shortSource == "beds.jsonl")
        #expect(LineOrigin(source: "stdin", line: 2).shortSource == "stdin")
        #expect(LineOrigin(source: "tcp:127.0.0.1:5514#3", line: 2).shortSource == "tcp:127.0.0.1:5514#3")
        let tcp = LineOrigin.connectionSource(listener: "tcp:0.0.0.0:5514", connection: 3, peer: "10.2.0.7:50122")
        #expect(tcp == "tcp:0.0.0.0:5514#3 from 10.2.0.7:50122")
        #expect(LineOrigin(source: tcp, line: 2).shortSource == "10.2.0.7#3")
        let v6 = LineOrigin.connectionSource(listener: "tcp:[::]:5514", connection: 12, peer: "[fd00::7]:50122")
        #expect(LineOrigin(source: v6, line: 2).shortSource == "[fd00::7]#12")
    }
}
