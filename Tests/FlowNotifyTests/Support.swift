import Foundation
@testable import FlowCore
@testable import FlowNotify
#if canImport(Glibc)
import Glibc
#endif

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let bundledSystemPath = repoRoot.appendingPathComponent("Scenarios/herts-west-essex.yaml").path

/// The bundled system and its notifications section.
func bundled() throws -> (SystemConfig, NotificationConfig) {
    let text = try String(contentsOfFile: bundledSystemPath, encoding: .utf8)
    let system = try ConfigLoader.load(yaml: text, file: "herts-west-essex.yaml")
    let notify = try NotifyConfigLoader.load(yaml: text, file: "herts-west-essex.yaml", system: system)
    return (system, notify)
}

func utc(_ s: String) -> EventTime { RFC3339.parse(s)! }

func transition(_ rule: String, _ site: String, _ severity: Severity, _ state: TransitionKind, at: String, since: String? = nil,
                value: Double? = 1) -> AlertTransition {
    AlertTransition(at: utc(at), rule: rule, site: site, severity: severity, state: state, value: value,
                    summary: "\(rule) at \(site) \(state.rawValue)", leadID: nil, since: utc(since ?? at))
}

/// Polls `condition` every 10 ms until it holds or `seconds` pass; returns its last value.
@discardableResult
func eventually(within seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date(timeIntervalSinceNow: seconds)
    while Date() < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.01)
    }
    return condition()
}

final class TempDir: @unchecked Sendable {
    let path: String
    init() {
        var template = Array((NSTemporaryDirectory() + "/flownotify-XXXXXX").utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        path = String(cString: p!)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }
}

/// What a callback says, in order (any thread).
final class Said: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.withLock { items.append(s) } }
    var all: [String] { lock.withLock { items } }
}
