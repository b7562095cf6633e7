import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real binary as an analyst uses it: `urgentflow replay --headless`, `--sitrep`, `check`,
/// and what a wrong argument or an unreadable file gives.
@Suite struct HeadlessReplayCLITests {
    /// Runs the binary with stdout and stderr kept apart (through files).
    static func urgentflow(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let bin = try Tmux.binary()
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("uf-cli-\(getpid())-\(UInt64.random(in: 0...UInt64.max))").path
        defer { unlink(base + ".out"); unlink(base + ".err") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, base + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, base + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv: [UnsafeMutablePointer<CChar>?] = ([bin] + args).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, bin, &actions, nil, argv, environ)
        guard rc == 0 else { throw Tmux.Failure(description: "posix_spawn: \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (code, (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? "",
                (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? "")
    }

    static let scenarios = Tmux.packageRoot.appendingPathComponent("Scenarios")

    /// The lines of the bundled winter-weekday scenario (feeds to edit for a test).
    static func winterWeekdayLines() throws -> [String] {
        try String(contentsOf: scenarios.appendingPathComponent("winter-weekday.jsonl"), encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// Writes `lines` (each ended by a newline) to a file of the temporary directory named by
    /// `tag` and this process; returns its path (the caller unlinks it).
    static func feedFile(_ tag: String, _ lines: [String]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("uf-\(tag)-\(getpid()).jsonl").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func headlessOutputIsTheRecordedTimelineAndTheSameEveryRun() throws {
        let first = try Self.urgentflow(["replay", "handover-crisis", "--headless"])
        #expect(first.status == 0, "\(first.err)")
        let recorded = try String(contentsOf: Self.scenarios.appendingPathComponent("expected/handover-crisis.alerts.jsonl"), encoding: .utf8)
        #expect(first.out == recorded)
        let second = try Self.urgentflow(["replay", Self.scenarios.appendingPathComponent("handover-crisis.jsonl").path, "--headless"])
        #expect(second.out == first.out, "byte-identical on every run, by name or by path")
        #expect(first.err.contains("replayed 1764 lines: 1764 accepted, 0 rejected"))
    }

    @Test func badLinesAreReportedWithLineAndReasonAndTheReplayGoesOn() throws {
        let r = try Self.urgentflow(["replay", "feed-outage", "--headless"])
        #expect(r.status == 0)
        let errLines = r.err.split(separator: "\n")
        #expect(errLines.contains { $0.hasPrefix("line ") && $0.contains("identifiable: field nhs_number") })
        #expect(errLines.contains { $0.contains("duplicate_id") })
        #expect(errLines.last?.contains("12 rejected") == true)
        #expect(r.out.contains("\"rule\":\"stale_bed\",\"site\":\"RWG\""))
    }

    @Test func sitrepIsWrittenAsCSV() throws {
        let csv = FileManager.default.temporaryDirectory.appendingPathComponent("uf-sitrep-\(getpid()).csv").path
        defer { unlink(csv) }
        let r = try Self.urgentflow(["replay", "winter-weekday", "--headless", "--sitrep", csv])
        #expect(r.status == 0, "\(r.err)")
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(rows.first?.hasPrefix("date,site,ambulance_arrivals,handovers_30_60,handovers_over_60,handover_hours_lost,") == true)
        #expect(rows.contains("2026-01-13,RWH,96,10,0,7.08,91.07,0,67,,,full,2026-01-13T00:00:00+00:00,2026-01-14T00:00:00+00:00,24"), "\(rows)")
    }

    /// The scenario runs from 22:00 on the 12th to 01:54 on the 14th: its first and last days
    /// are part days, and each row says so (and which part), after the figures' columns.
    @Test func sitrepRowsSayWhetherTheirDayIsComplete() throws {
        let csv = FileManager.default.temporaryDirectory.appendingPathComponent("uf-sitrep-days-\(getpid()).csv").path
        defer { unlink(csv) }
        let r = try Self.urgentflow(["replay", "winter-weekday", "--headless", "--sitrep", csv])
        #expect(r.status == 0, "\(r.err)")
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(rows.first?.hasSuffix(",nhs111_answered_60s_pct,coverage,covered_from,covered_to,covered_hours") == true, "\(rows)")
        let days = Dictionary(grouping: rows.dropFirst()) { String($0.prefix(10)) }
        #expect(days.keys.sorted() == ["2026-01-12", "2026-01-13", "2026-01-14"], "\(rows)")
        #expect(days["2026-01-12"]?.allSatisfy { $0.hasSuffix(",part,2026-01-12T22:00:00+00:00,2026-01-13T00:00:00+00:00,2") } == true, "\(rows)")
        #expect(days["2026-01-13"]?.allSatisfy { $0.hasSuffix(",full,2026-01-13T00:00:00+00:00,2026-01-14T00:00:00+00:00,24") } == true, "\(rows)")
        #expect(days["2026-01-14"]?.allSatisfy { $0.hasSuffix(",part,2026-01-14T00:00:00+00:00,2026-01-14T01:54:03+00:00,1.9") } == true, "\(rows)")
        #expect(rows.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == 15 })
    }

    @Test(arguments: [
        (["replay", "no-such-scenario", "--headless"], "no such scenario"),
        (["replay", "winter-weekday", "--headless", "--speed", "-3"], "--speed must be 0 or more"),
        (["dashboard", "--speed", "-3"], "--speed must be 0 or more"),
        (["replay", "winter-weekday", "--headless", "--config", "/nonexistent.yaml"], "cannot read configuration /nonexistent.yaml: No such file or directory"),
        (["check", "/nonexistent.jsonl"], "cannot open"),
        (["recover", "--journal", "/nonexistent-journal"], "no journal directory /nonexistent-journal"),
        // A mistyped input was read as one that ended at once: "stopped (inputs done)", exit 0.
        (["run", "--no-ui", "--once", "--journal", "/tmp/uf-never-made", "/nonexistent.jsonl"], "cannot read the input /nonexistent.jsonl: No such file"),
        (["record", "--journal", "/tmp/uf-never-made", "/nonexistent.jsonl"], "cannot read the input /nonexistent.jsonl"),
        (["record", "--journal", "/tmp/uf-never-made"], "nothing to record"),
        (["generate", "bench", "--lines", "-5"], "--lines must be at least 1"),
        (["frobnicate"], "Unexpected argument"),
    ])
    func wrongArgumentsGiveAOneLineErrorAndANonZeroExit(_ c: ([String], String)) throws {
        let r = try Self.urgentflow(c.0)
        #expect(r.status != 0)
        #expect(r.out.isEmpty)
        let first = r.err.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.contains(c.1), "\(r.err)")
    }

    @Test func checkReportsEveryProblemWithItsLineAndExitsOne() throws {
        let r = try Self.urgentflow(["check", Self.scenarios.appendingPathComponent("feed-outage.jsonl").path])
        #expect(r.status == 1)
        let problems = r.out.split(separator: "\n").filter { $0.contains(": line ") }
        #expect(problems.count == 12)
        let ok = try Self.urgentflow(["check", Self.scenarios.appendingPathComponent("herts-west-essex.yaml").path])
        #expect(ok.status == 0)
        #expect(ok.out.contains("ok: Hertfordshire and West Essex, 7 units"))
    }

    /// One of a kind is said in the singular: `check` said `1 rota entries` (ops user test).
    @Test func checkCountsOneInTheSingular() throws {
        let dir = NSTemporaryDirectory() + "/check-one-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var text = try String(contentsOf: Self.scenarios.appendingPathComponent("herts-west-essex.yaml"), encoding: .utf8)
        // Its second rota (the system's) left out: one rota entry.
        let r = try #require(text.range(of: "    - id: system\n      units: [SYSTEM]"))
        let end = try #require(text.range(of: "\n  escalation:", range: r.upperBound..<text.endIndex))
        text.removeSubrange(r.lowerBound..<end.lowerBound)
        let path = dir + "/one.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let ok = try Self.urgentflow(["check", path])
        #expect(ok.status == 0, "\(ok.out)\(ok.err)")
        #expect(ok.out.contains(" 1 rota entry, "), "\(ok.out)")
    }

    /// Empty lines are no messages: live ingest counts them apart (`empty`), and so do `check`
    /// and `replay`, where they were rejected as malformed (and a file with a blank line at its
    /// end failed `check`). A mistyped time is refused in line order with the rest.
    @Test func emptyLinesAreCountedApartAndAMistypedTimeIsRefusedInLineOrder() throws {
        var lines = Array(try Self.winterWeekdayLines().prefix(400))
        let bed = lines.indices.last { lines[$0].contains("\"feed\":\"bed\"") && $0 < 300 }!
        // Five hours ahead: the hour digit mistyped.
        let at = lines[bed].range(of: #""at":"[^"]+""#, options: .regularExpression)!
        let stamp = String(lines[bed][at].dropFirst(6).dropLast())
        let moved = ISO8601DateFormatter().date(from: stamp)!.addingTimeInterval(5 * 3600)
        lines[bed].replaceSubrange(at, with: "\"at\":\"\(ISO8601DateFormatter().string(from: moved))\"")
        lines.insert("", at: 10)
        lines.append("\r")
        let path = try Self.feedFile("empty", lines)
        defer { unlink(path) }
        let r = try Self.urgentflow(["check", path])
        let report = r.out.split(separator: "\n").map(String.init)
        #expect(report.count == 4, "\(r.out)")
        #expect(report[0].hasPrefix(path + ": line 11: empty line: skipped"), "\(report)")
        #expect(report[1].hasPrefix(path + ": line \(bed + 2): feed bed: "), "\(report)")
        #expect(report[1].contains("future_time") && report[1].contains("a mistyped time?"), "\(report)")
        #expect(report[2].hasPrefix(path + ": line 402: empty line: skipped"), "\(report)")
        #expect(report[3] == path + ": 402 lines, 399 accepted, 1 rejected, 2 empty")
        #expect(r.status == 1, "the mistyped time is a problem")
        let replay = try Self.urgentflow(["replay", path, "--headless"])
        // A line over the live limit (64 KiB by default) is refused by check as the service
        // refuses it; check passed a 70 KB line the service answered line_too_long.
        let long = lines[0].replacingOccurrences(of: "\"site\"", with: "\"note\":\"\(String(repeating: "a", count: 70_000))\",\"site\"")
        try (long + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let tooLong = try Self.urgentflow(["check", path])
        #expect(tooLong.out.contains("line 1: malformed: the line is 70"), "\(tooLong.out)")
        #expect(tooLong.out.contains("over the 65536-byte limit"), "\(tooLong.out)")
        #expect(replay.err.hasSuffix("replayed 402 lines: 399 accepted, 1 rejected, 2 empty\n"), "\(replay.err)")
    }

    /// A jump ahead as the last line is held for a line that never comes: the end of the input
    /// decides it, in `check` as in `replay`. `check` counted it neither accepted nor rejected
    /// and passed the file; `replay` counted it rejected and said nothing of it.
    @Test func aJumpAheadAsTheLastLineIsDecidedAndSaid() throws {
        let lines = Array(try Self.winterWeekdayLines().prefix(200))
        let bed = try #require(lines.last { $0.contains("\"feed\":\"bed\"") })
        let year = bed.replacingOccurrences(of: #""at":"2026-"#, with: #""at":"2027-"#).replacingOccurrences(of: #""id":""#, with: #""id":"late-"#)
        // Three hours ahead of it: held too, and applied at the end (under 6 h ahead).
        var hour = bed.replacingOccurrences(of: #""id":""#, with: #""id":"hour-"#)
        let at = try #require(hour.range(of: #""at":"[^"]+""#, options: .regularExpression))
        let stamp = try #require(ISO8601DateFormatter().date(from: String(hour[at].dropFirst(6).dropLast())))
        hour.replaceSubrange(at, with: "\"at\":\"\(ISO8601DateFormatter().string(from: stamp.addingTimeInterval(3 * 3600)))\"")
        try #require(year != bed)
        for (tail, accepted, refused) in [(year, 200, true), (hour, 201, false)] {
            let path = try Self.feedFile("lastjump", lines + [tail])
            defer { unlink(path) }
            let check = try Self.urgentflow(["check", path])
            let replay = try Self.urgentflow(["replay", path, "--headless"])
            if refused {
                #expect(check.out.contains(path + ": line 201: feed bed: "), "\(check.out)")
                #expect(check.out.contains("future_time") && check.out.contains("no line after it came near it"), "\(check.out)")
                #expect(check.out.hasSuffix(": 201 lines, 200 accepted, 1 rejected\n"), "\(check.out)")
                #expect(check.status == 1)
                #expect(replay.err.hasPrefix("line 201: feed bed: "), "\(replay.err)")
                #expect(replay.err.hasSuffix("replayed 201 lines: 200 accepted, 1 rejected\n"), "\(replay.err)")
            } else {
                #expect(check.out.hasSuffix(": 201 lines, \(accepted) accepted, 0 rejected\n"), "\(check.out)")
                #expect(check.status == 0)
                #expect(replay.err == "replayed 201 lines: 201 accepted, 0 rejected\n", "\(replay.err)")
            }
        }
    }

    /// A line of only spaces or tabs is an empty line too: `check` lists it as one and passes,
    /// `replay` counts it apart. Both refused it as malformed ("empty line at column 4").
    @Test func aLineOfOnlyWhitespaceIsAnEmptyLine() throws {
        let all = try Self.winterWeekdayLines()
        let path = try Self.feedFile("blank", Array(all.prefix(3)) + ["   ", "\t \r"] + Array(all[3..<5]))
        defer { unlink(path) }
        let r = try Self.urgentflow(["check", path])
        let report = r.out.split(separator: "\n").map(String.init)
        #expect(report.count == 3, "\(r.out)")
        #expect(report.first?.hasPrefix(path + ": line 4: empty line: skipped") == true, "\(report)")
        #expect(report.last == path + ": 7 lines, 5 accepted, 0 rejected, 2 empty", "\(report)")
        #expect(r.status == 0, "\(r.out)")
        let replay = try Self.urgentflow(["replay", path, "--headless"])
        #expect(replay.err.hasSuffix("replayed 7 lines: 5 accepted, 0 rejected, 2 empty\n"), "\(replay.err)")
    }

    /// `check` is how an analyst predicts a replay: a line over the live limit was refused by
    /// `check` and replayed (the analysts' user test: 14 rejections against 13).
    @Test func replayRefusesALineOverTheLimitAsCheckDoes() throws {
        let all = try Self.winterWeekdayLines()
        let at = all[2].range(of: #""at":""#).map { String(all[2][$0.upperBound...].prefix { $0 != "\"" }) } ?? ""
        let long = #"{"feed":"bed","id":"x","at":""# + at + #"","site":"RWH","ga_core_open":600,"ga_core_occupied":500,"note":""#
            + String(repeating: "a", count: 70_000) + #""}"#
        let path = try Self.feedFile("long", Array(all.prefix(3)) + [long] + Array(all[3..<5]))
        defer { unlink(path) }
        let check = try Self.urgentflow(["check", path])
        #expect(check.out.contains("line 4: malformed: the line is 70"), "\(check.out)")
        let replay = try Self.urgentflow(["replay", path, "--headless"])
        #expect(replay.err.contains("line 4: malformed: the line is 70"), "\(replay.err)")
        #expect(replay.err.hasSuffix("replayed 6 lines: 5 accepted, 1 rejected\n"), "\(replay.err)")
        // As `run` and `check`, the limit can be raised.
        let raised = try Self.urgentflow(["replay", path, "--headless", "--max-line", "100000"])
        #expect(raised.err.hasSuffix("replayed 6 lines: 6 accepted, 0 rejected\n"), "\(raised.err)")
    }

    /// Foundation's errors were printed as they are ("Error Domain=NSCocoaErrorDomain Code=4 ...
    /// NSUserStringVariant=[Folder]"), and a sitrep's folder was found missing only after the
    /// whole replay (the analysts' user test).
    @Test func aFolderInAFilesPlaceOrAMissingFolderIsSaidInWords() throws {
        let dir = NSTemporaryDirectory() + "uf-words-\(getpid()).yaml"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let read = try Self.urgentflow(["check", dir])
        #expect(read.err.contains("cannot read \(dir): Is a directory") && !read.err.contains("NSCocoa"), "\(read.err)")
        for (target, why) in [("/nonexistent-uf/x.csv", "the folder /nonexistent-uf does not exist"), (dir, "Is a directory")] {
            let r = try Self.urgentflow(["replay", "winter-weekday", "--headless", "--sitrep", target])
            #expect(r.status != 0 && r.err.contains("cannot write sitrep \(target): \(why)"), "\(r.err)")
            #expect(r.out.isEmpty, "refused before the replay")
        }
    }

    /// A sitrep or notification folder asked of the dashboard's replay was ignored: no file, no word.
    @Test func whatOnlyAHeadlessReplayWritesIsRefusedWithoutIt() throws {
        for args in [["--sitrep", "/tmp/never.csv"], ["--notify-dir", "/tmp/never"], ["--headless", "--deliver"]] {
            let r = try Self.urgentflow(["replay", "winter-weekday"] + args)
            #expect(r.status == 64, "\(args): \(r.err)")
            #expect(r.err.contains("needs --"), "\(args): \(r.err)")
        }
    }

    /// `--notify-dir` records every notification the replay makes before it exits: the last
    /// ones (three repeats at the replay's end) stayed in the outbox, and the next run into the
    /// same directory delivered them.
    @Test func aReplaysNotificationsAreAllRecordedBeforeItExits() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("uf-notify-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Self.urgentflow(["replay", "handover-crisis", "--headless", "--notify-dir", dir])
        #expect(r.status == 0, "\(r.err)")
        let log = try String(contentsOfFile: dir + "/notifications.jsonl", encoding: .utf8).split(separator: "\n")
        var pairs = 0, deliveries = 0
        for line in log {
            guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            if o["type"] as? String == "notification" { pairs += (o["notifiers"] as? [Any])?.count ?? 0 }
            if o["type"] as? String == "delivery" { deliveries += 1 }
        }
        #expect(pairs > 0)
        #expect(deliveries == pairs, "\(pairs) notifications to notifiers, \(deliveries) delivered")
    }

    /// urgentflow's own journal marks in a feed: the live service refuses them from a producer,
    /// so `check` says so and fails, where it passed them in silence (a replay skips a clock mark).
    @Test func checkSaysAJournalMarkIsNotFeedData() throws {
        let mark = #"{"feed":"operator","id":"c1","at":"2026-01-12T22:00:30Z","kind":"clock"}"#
        let path = try Self.feedFile("mark", Array(try Self.winterWeekdayLines().prefix(3)) + [mark])
        defer { unlink(path) }
        let r = try Self.urgentflow(["check", path])
        #expect(r.status == 1)
        #expect(r.out.contains("line 4: operator: a clock mark is written by urgentflow into its journal"), "\(r.out)")
        #expect(r.out.hasSuffix("4 lines, 3 accepted, 0 rejected, 1 journal mark\n"), "\(r.out)")
    }

    /// A mistyped scenario name is answered with the bundled names.
    @Test func anUnknownScenarioNameListsTheBundledOnes() throws {
        let r = try Self.urgentflow(["replay", "handover", "--headless"])
        #expect(r.status != 0)
        #expect(r.err.contains("no such scenario file or bundled scenario: handover (bundled: boxing-day-surge, feed-outage, handover-crisis, october-clock-change, winter-weekday)"), "\(r.err)")
    }

    /// A day of a journal holds a clock mark a minute: `check` names the first and counts the
    /// rest (each listed, they buried the file's problems), and with `--journal` expects them:
    /// only the problems are listed, and the marks alone do not fail it.
    @Test func checkOfAJournalListsItsProblemsNotEveryMark() throws {
        let marks = (0..<30).map { #"{"feed":"operator","id":"c\#($0)","at":"2026-01-12T22:\#(String(format: "%02d", $0)):30Z","kind":"clock"}"# }
        let lines = Array(try Self.winterWeekdayLines().prefix(3))
        let identifiable = #"{"feed":"ambulance","id":"x9","at":"2026-01-12T22:10:00Z","site":"RWH","kind":"arrived","incident":"inc-x9","note":"Mrs Khan"}"#
        let path = try Self.feedFile("journal", lines + marks.prefix(10) + [identifiable] + marks.dropFirst(10))
        defer { unlink(path) }
        let plain = try Self.urgentflow(["check", path])
        #expect(plain.status == 1)
        let listed = plain.out.split(separator: "\n")
        #expect(listed.count == 3, "the first mark, the identifiable line, the summary: \(plain.out)")
        #expect(listed.first?.contains("line 4: operator: a clock mark is written by urgentflow into its journal") == true
                && listed.first?.contains("29 more after it, not listed; for a day of urgentflow's journal, check it with --journal") == true,
                "\(plain.out)")
        #expect(listed.dropFirst().first?.contains("line 14: feed ambulance: site RWH: identifiable: field note") == true, "\(plain.out)")
        #expect(plain.out.hasSuffix("34 lines, 3 accepted, 1 rejected, 30 journal marks\n"), "\(plain.out)")

        let journal = try Self.urgentflow(["check", "--journal", path])
        #expect(journal.status == 1, "the identifiable line still fails it")
        #expect(!journal.out.contains("operator:"), "\(journal.out)")
        #expect(journal.out.split(separator: "\n").count == 2, "\(journal.out)")
        let clean = try Self.feedFile("journal-clean", lines + marks)
        defer { unlink(clean) }
        let ok = try Self.urgentflow(["check", "--journal", clean])
        #expect(ok.status == 0, "\(ok.out)")
        #expect(ok.out.hasSuffix("33 lines, 3 accepted, 0 rejected, 30 journal marks\n"), "\(ok.out)")
    }

    /// A file `check` passes must start: `run` refuses one whose `notifications:` section is
    /// wrong, so `check` reads that section too, each problem with its line.
    @Test func checkReadsTheNotificationsSectionAsRunDoes() throws {
        let good = try String(contentsOf: Self.scenarios.appendingPathComponent("herts-west-essex.yaml"), encoding: .utf8)
        let ok = try Self.urgentflow(["check", Self.scenarios.appendingPathComponent("herts-west-essex.yaml").path])
        #expect(ok.out.contains("notifiers"), "\(ok.out)")
        let bad = good.replacingOccurrences(of: "    after: 30m", with: "    after: soon")
            .replacingOccurrences(of: "          leads: [acute-night-manager]", with: "          leads: [acute-nite-manager]")
        #expect(bad != good)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("uf-check-\(getpid()).yaml").path
        defer { unlink(path) }
        try bad.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try Self.urgentflow(["check", path])
        #expect(r.status == 1)
        let problems = r.out.split(separator: "\n").map(String.init)
        #expect(problems.contains { $0.hasPrefix(path + ":") && $0.contains("after") && $0.contains("soon") }, "\(r.out)")
        #expect(problems.contains { $0.hasPrefix(path + ":") && $0.contains("acute-nite-manager") }, "\(r.out)")
        #expect(!r.out.contains(": ok:"))
    }

    /// A winter edit with three mistakes, two in one rule (where `check` stopped at the first)
    /// and one in the notifications section (not read while the core sections had problems):
    /// `check` names all three in file order, with a count; `replay` refuses the file with the
    /// same list. A feed line starting with a byte-order mark is named for it.
    @Test func checkNamesEveryMistakeOfTheFileInFileOrder() throws {
        let good = try String(contentsOf: Self.scenarios.appendingPathComponent("herts-west-essex.yaml"), encoding: .utf8)
        let bad = good.replacingOccurrences(of: "    metric: escalation_share_pct\n", with: "    metric: escalation_share\n")
            .replacingOccurrences(of: "    warning: 4\n", with: "    warning: 4%\n")
            .replacingOccurrences(of: "          leads: [acute-night-manager]", with: "          leads: [acute-nite-manager]")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("uf-check-all-\(getpid()).yaml").path
        defer { unlink(path) }
        try bad.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try Self.urgentflow(["check", path])
        #expect(r.status == 1)
        #expect(r.out == """
            \(path):102: rules[1].metric: 'escalation_share' is not a metric (see docs/configuration.md)
            \(path):105: rules[1].warning: must be a number
            \(path):332: notifications.rotas[0].shifts[1].leads: 'acute-nite-manager' is not a lead id (leads: \
            acute-night-manager, acute-weekend-manager, community-oncall, eeast-oncall, huc-oncall, rqw-oncall, rwg-oncall, \
            rwh-oncall, system-director)
            \(path): 3 problems

            """, "\(r.out)")
        let replay = try Self.urgentflow(["replay", "winter-weekday", "--headless", "--config", path])
        #expect(replay.status != 0)
        #expect(replay.err.contains(path + ":102: rules[1].metric") && replay.err.contains(path + ":105: rules[1].warning")
                && replay.err.contains(path + ":332: notifications.rotas[0]"), "\(replay.err)")

        var lines = try Self.winterWeekdayLines()
        lines[0] = "\u{FEFF}" + lines[0]
        let feed = try Self.feedFile("bom", lines)
        defer { unlink(feed) }
        let check = try Self.urgentflow(["check", feed])
        #expect(check.status == 1)
        #expect(check.out.contains(feed + ": line 1: malformed: line starts with a UTF-8 byte-order mark (EF BB BF); save the file without a BOM"),
                "\(check.out)")
    }
}
