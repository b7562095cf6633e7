import FlowCore

/// A key press, decoded by a backend.
public enum Key: Hashable, Sendable {
    case char(Character)
    case up, down, left, right
    case pageUp, pageDown, home, end
    case enter, escape, tab, backTab, backspace
    case resize
    case function(Int)

    /// How the key is written in the help overlay.
    public var label: String {
        switch self {
        case .char(" "): return "Space"
        case .char(let c): return String(c)
        case .up: return "↑"
        case .down: return "↓"
        case .left: return "←"
        case .right: return "→"
        case .pageUp: return "PgUp"
        case .pageDown: return "PgDn"
        case .home: return "Home"
        case .end: return "End"
        case .enter: return "Enter"
        case .escape: return "Esc"
        case .tab: return "Tab"
        case .backTab: return "S-Tab"
        case .backspace: return "Bksp"
        case .resize: return "resize"
        case .function(let n): return "F\(n)"
        }
    }
}

/// What a key does. The dispatcher and the help overlay both read `KeyMap.bindings`.
public enum UIAction: String, Hashable, Sendable, CaseIterable {
    case moveUp, moveDown, moveLeft, moveRight, pageUp, pageDown, top, bottom
    case switchFocus
    case openDetail
    case back
    case acknowledge
    case silence
    case filter
    case togglePause
    case quit
    case help
    case faster, slower, stepEvent, nextAlertTransition
    case jumpBack, jumpAhead, rewindToStart
}

extension UIAction {
    /// How far `[` and `]` move a replay.
    public static let replayJump = FlowCore.Duration.hours(1)

    /// What a replay key asks of the driver, the same from the dashboard's keys and from plain
    /// mode's lines; nil for the actions the dashboard handles itself.
    public var replayCommand: DriverCommand? {
        switch self {
        case .faster: return .faster
        case .slower: return .slower
        case .stepEvent: return .stepEvent
        case .nextAlertTransition: return .nextAlertTransition
        case .jumpBack: return .jump(FlowCore.Duration(millis: -Self.replayJump.millis))
        case .jumpAhead: return .jump(Self.replayJump)
        case .rewindToStart: return .rewindToStart
        default: return nil
        }
    }
}

/// Where a binding applies.
public enum KeyContext: String, Hashable, Sendable, CaseIterable {
    /// Anywhere on the dashboard.
    case global
    /// Sites grid and alert panel.
    case dashboard
    /// The site detail view.
    case detail
    /// Only when watching a replay.
    case replay

    public var title: String {
        switch self {
        case .global: return "Everywhere"
        case .dashboard: return "Sites and alerts"
        case .detail: return "Site detail"
        case .replay: return "Replay"
        }
    }
}

public struct KeyBinding: Sendable, Equatable {
    public var keys: [Key]
    public var action: UIAction
    public var help: String
    public var contexts: Set<KeyContext>
    public init(_ keys: [Key], _ action: UIAction, _ help: String, _ contexts: Set<KeyContext>) {
        self.keys = keys
        self.action = action
        self.help = help
        self.contexts = contexts
    }

    /// `↑ k`, `Space` ...
    public var keyLabel: String { keys.map(\.label).joined(separator: " ") }
}

/// The one key table (lazygit/k9s style): `dispatch` and the help overlay are both built from it.
public enum KeyMap {
    public static let bindings: [KeyBinding] = [
        KeyBinding([.escape], .back, "back / clear filter", [.global]),
        KeyBinding([.char(" ")], .togglePause, "pause / resume", [.global]),
        KeyBinding([.char("?")], .help, "this help", [.global]),
        KeyBinding([.char("q")], .quit, "quit", [.global]),
        KeyBinding([.up, .char("k")], .moveUp, "move up", [.dashboard]),
        KeyBinding([.down, .char("j")], .moveDown, "move down", [.dashboard]),
        KeyBinding([.left, .char("h")], .moveLeft, "focus sites", [.dashboard]),
        KeyBinding([.right, .char("l")], .moveRight, "focus alerts", [.dashboard]),
        KeyBinding([.tab, .backTab], .switchFocus, "switch sites / alerts", [.dashboard]),
        KeyBinding([.enter], .openDetail, "site detail", [.dashboard]),
        KeyBinding([.char("/")], .filter, "filter sites, alerts", [.dashboard]),
        KeyBinding([.up, .char("k")], .moveUp, "previous metric/alert", [.detail]),
        KeyBinding([.down, .char("j")], .moveDown, "next metric/alert", [.detail]),
        KeyBinding([.left, .char("h")], .moveLeft, "previous site", [.detail]),
        KeyBinding([.right, .char("l")], .moveRight, "next site", [.detail]),
        KeyBinding([.tab, .backTab], .switchFocus, "switch metrics / alerts", [.detail]),
        KeyBinding([.pageUp], .pageUp, "page up", [.dashboard, .detail]),
        KeyBinding([.pageDown], .pageDown, "page down", [.dashboard, .detail]),
        KeyBinding([.home, .char("g")], .top, "first row", [.dashboard, .detail]),
        KeyBinding([.end, .char("G")], .bottom, "last row", [.dashboard, .detail]),
        KeyBinding([.char("a")], .acknowledge, "acknowledge alert", [.dashboard, .detail]),
        KeyBinding([.char("s")], .silence, "silence notifications", [.dashboard, .detail]),
        KeyBinding([.char("+"), .char("=")], .faster, "replay faster", [.replay]),
        KeyBinding([.char("-")], .slower, "replay slower", [.replay]),
        KeyBinding([.char(".")], .stepEvent, "step one event", [.replay]),
        KeyBinding([.char("n")], .nextAlertTransition, "run to next alert change", [.replay]),
        KeyBinding([.char("[")], .jumpBack, "back one hour", [.replay]),
        KeyBinding([.char("]")], .jumpAhead, "ahead one hour", [.replay]),
        KeyBinding([.char("{")], .rewindToStart, "back to the start", [.replay]),
    ]

    /// The bindings live in `contexts`, in table order (what the help overlay lists).
    public static func bindings(in contexts: Set<KeyContext>) -> [KeyBinding] {
        bindings.filter { !$0.contexts.isDisjoint(with: contexts) }
    }

    /// The action of `key` given the active contexts, or nil.
    public static func action(for key: Key, in contexts: Set<KeyContext>) -> UIAction? {
        for b in bindings where b.keys.contains(key) && !b.contexts.isDisjoint(with: contexts) {
            return b.action
        }
        return nil
    }
}
