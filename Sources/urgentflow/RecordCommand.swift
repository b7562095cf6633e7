import ArgumentParser
import FlowCore
import FlowLive
import FlowIngest
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `urgentflow record`: ingest without a screen and only write the journal. Lines are validated
/// by the engine (live mode, after recovering the journal so duplicates across restarts are
/// caught): only accepted lines are journalled. No rule clock, no alert log.
struct Record: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Ingest feeds and only write the journal (validated: only accepted lines are kept).",
        discussion: "Stops when every input has ended (files read once, stdin), or on SIGTERM/SIGINT when a listener or a followed file keeps it running.")

    @OptionGroup var configOption: ConfigOption
    @OptionGroup var ingest: IngestOptions

    func validate() throws {
        // Nothing to record from: it stopped at once, "recorded 0 lines", exit 0.
        if ingest.inputs.isEmpty && ingest.listen.isEmpty {
            throw ValidationError("nothing to record: give a file, '-' for stdin, or --listen tcp://HOST:PORT")
        }
    }

    func run() throws {
        let signals = ServiceSignals.block()
        let config = try configOption.load()
        let engine = FlowEngine(config: config, mode: .live)
        let listeners = try ingest.bindListeners()   // a port in use leaves no journal directory
        let lock = try ingest.lockJournal()   // one writer per journal, from before recovery
        defer { withExtendedLifetime(lock) {} }
        ingest.applyRetention(calendar: engine.model.calendar)   // before the recovery reads the days it deletes
        let report = try Recovery.run(engine: engine, journalDirectory: ingest.journal)
        Log.info(report.summary)
        let journal = try ingest.openJournal(calendar: engine.model.calendar)
        let validator = EngineConsumer(engine: engine, runsClock: false, journal: nil, alertLog: nil, slot: nil)
        let hub = IngestHub(consumer: validator, journal: journal,
                            configuration: .init(maxLineLength: ingest.maxLine), onError: { Log.warn($0) },
                            onNotice: { Log.info($0) })
        do { try ingest.addSources(to: hub, listeners: listeners) } catch {
            hub.shutdown()
            throw CLIError("cannot start the inputs: \(error)")
        }
        if ingest.allFinite {
            let pid = getpid()
            Thread.detachNewThread {
                hub.waitForFiniteSources()
                kill(pid, SIGUSR2)
            }
        }
        _ = ServiceSignals.wait(signals)
        hub.shutdown()
        ingest.closeJournal(journal)
        let s = hub.statistics()
        Log.info("recorded \(s.journalLines) lines to \(ingest.journal) (\(s.linesSummary))")
    }
}
