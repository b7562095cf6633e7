import FlowCore

/// The role of a cell: what it means, not how it looks. A `Theme` maps a role to colours and
/// attributes; the status roles come from the core (`Status`), never from the views.
public enum StyleRole: String, CaseIterable, Sendable, Hashable {
    case normal
    case header
    case title
    case ok
    case warning
    case critical
    case unknown
    case selected
    case dim
    case border
    case paused
    case replay
    case prompt
    case filter

    public init(_ status: Status) {
        switch status {
        case .ok: self = .ok
        case .warning: self = .warning
        case .critical: self = .critical
        case .unknown: self = .unknown
        }
    }

    /// The status a role stands for, if it is a status role.
    public var status: Status? {
        switch self {
        case .ok: return .ok
        case .warning: return .warning
        case .critical: return .critical
        case .unknown: return .unknown
        default: return nil
        }
    }
}

/// Extra attributes a widget can ask for on top of its role.
public struct CellAttributes: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = CellAttributes(rawValue: 1)
    public static let reverse = CellAttributes(rawValue: 2)
    public static let underline = CellAttributes(rawValue: 4)
}

/// One terminal cell. A wide grapheme occupies its cell and the next one, which is marked as a
/// continuation (empty text) and is never drawn on its own.
public struct Cell: Equatable, Sendable {
    public var text: String
    public var role: StyleRole
    public var attributes: CellAttributes
    public var isContinuation: Bool

    public init(text: String = " ", role: StyleRole = .normal, attributes: CellAttributes = [], isContinuation: Bool = false) {
        self.text = text
        self.role = role
        self.attributes = attributes
        self.isContinuation = isContinuation
    }

    public static let blank = Cell()
}

/// A rectangle in grid coordinates.
public struct Rect: Equatable, Sendable {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = max(0, width); self.height = max(0, height)
    }
    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var isEmpty: Bool { width <= 0 || height <= 0 }
    public func inset(by n: Int) -> Rect { Rect(x: x + n, y: y + n, width: width - 2 * n, height: height - 2 * n) }
}

/// An in-memory screen (ratatui's Buffer): widgets draw only into a grid; a backend flushes it.
/// Every string is sanitised and clipped to display width here, the single way text gets in.
public struct CellGrid: Equatable, Sendable {
    public private(set) var width: Int
    public private(set) var height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        self.cells = Array(repeating: .blank, count: self.width * self.height)
    }

    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    public subscript(x: Int, y: Int) -> Cell {
        get { (x >= 0 && y >= 0 && x < width && y < height) ? cells[y * width + x] : .blank }
    }

    /// Replaces one cell (no text processing: use `put` for text).
    mutating func setCell(_ c: Cell, x: Int, y: Int) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        cells[y * width + x] = c
    }

    public mutating func clear() {
        for i in cells.indices { cells[i] = .blank }
    }

    /// Fills a rectangle with spaces of a role.
    public mutating func fill(_ r: Rect, role: StyleRole = .normal, attributes: CellAttributes = []) {
        let x0 = max(0, r.x), y0 = max(0, r.y)
        let x1 = min(width, r.maxX), y1 = min(height, r.maxY)
        guard x0 < x1, y0 < y1 else { return }
        for y in y0..<y1 {
            for x in x0..<x1 { cells[y * width + x] = Cell(text: " ", role: role, attributes: attributes) }
        }
    }

    /// Writes `text` at (x, y), sanitised, clipped to `maxWidth` columns (default: to the grid
    /// edge). Returns the number of columns written.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, role: StyleRole = .normal,
                             attributes: CellAttributes = [], maxWidth: Int? = nil) -> Int {
        guard y >= 0, y < height, x < width else { return 0 }
        var limit = width - max(0, x)
        if let m = maxWidth { limit = min(limit, m - max(0, -x)) }
        guard limit > 0 else { return 0 }
        var col = x
        let end = max(0, x) + limit
        if TerminalText.isPrintableASCII(text) {
            // A byte a column: the same cells as the loop below, without its Unicode look-ups.
            for b in text.utf8 {
                if col + 1 > end { break }
                if col >= 0 {
                    breakWide(at: col, y: y)
                    cells[y * width + col] = Cell(text: Self.asciiText[Int(b)], role: role, attributes: attributes)
                }
                col += 1
            }
            return col - x
        }
        let safe = TerminalText.sanitize(text)
        for ch in safe {
            let w = TerminalText.width(of: ch)
            if w == 0 {
                // Combining mark: attach to the previous cell's grapheme.
                if col > 0, col - 1 < width, col - 1 >= 0 {
                    var i = y * width + col - 1
                    if cells[i].isContinuation, col - 2 >= 0 { i -= 1 }
                    cells[i].text.append(ch)
                }
                continue
            }
            if col + w > end { break }
            if col >= 0 {
                breakWide(at: col, y: y)
                if w == 2 { breakWide(at: col + 1, y: y) }
                cells[y * width + col] = Cell(text: String(ch), role: role, attributes: attributes)
                if w == 2 {
                    cells[y * width + col + 1] = Cell(text: "", role: role, attributes: attributes, isContinuation: true)
                }
            }
            col += w
        }
        return col - x
    }

    /// The one-character strings of the ASCII bytes (`put`'s fast path).
    private static let asciiText: [String] = (0..<128).map { String(Character(Unicode.Scalar(UInt8($0)))) }

    /// Overwriting half of a wide character blanks its other half.
    private mutating func breakWide(at x: Int, y: Int) {
        let i = y * width + x
        if cells[i].isContinuation, x > 0 {
            cells[i - 1] = Cell(text: " ", role: cells[i - 1].role, attributes: cells[i - 1].attributes)
            cells[i] = Cell(text: " ", role: cells[i].role)
        } else if x + 1 < width, cells[i + 1].isContinuation {
            cells[i + 1] = Cell(text: " ", role: cells[i + 1].role, attributes: cells[i + 1].attributes)
        }
    }

    /// Changes the role of existing cells (e.g. to highlight a selected row).
    public mutating func restyle(_ r: Rect, role: StyleRole, attributes: CellAttributes = []) {
        let x0 = max(0, r.x), y0 = max(0, r.y)
        let x1 = min(width, r.maxX), y1 = min(height, r.maxY)
        guard x0 < x1, y0 < y1 else { return }
        for y in y0..<y1 {
            for x in x0..<x1 {
                cells[y * width + x].role = role
                cells[y * width + x].attributes = attributes
            }
        }
    }

    // MARK: reading back (tests, plain mode)

    /// The text of row `y`, continuation cells skipped, trailing spaces kept.
    public func row(_ y: Int) -> String {
        guard y >= 0, y < height else { return "" }
        var s = ""
        for x in 0..<width {
            let c = cells[y * width + x]
            if !c.isContinuation { s += c.text }
        }
        return s
    }

    /// All rows joined by newlines, trailing spaces trimmed.
    public var text: String {
        (0..<height).map { row($0).trimmingTrailingSpaces() }.joined(separator: "\n")
    }

    /// Finds the first occurrence of `needle` and returns its position (column, row).
    public func find(_ needle: String) -> (x: Int, y: Int)? {
        for y in 0..<height {
            // Map string offsets back to columns.
            var cols: [Int] = []
            var s = ""
            for x in 0..<width where !cells[y * width + x].isContinuation {
                for _ in cells[y * width + x].text { cols.append(x) }
                s += cells[y * width + x].text
            }
            if let r = s.range(of: needle) {
                let off = s.distance(from: s.startIndex, to: r.lowerBound)
                return (cols[off], y)
            }
        }
        return nil
    }

    /// Roles of the cells covering the first occurrence of `needle`.
    public func roles(of needle: String) -> Set<StyleRole> {
        guard let p = find(needle) else { return [] }
        var roles = Set<StyleRole>()
        let w = TerminalText.width(needle)
        for x in p.x..<min(width, p.x + w) { roles.insert(self[x, p.y].role) }
        return roles
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
