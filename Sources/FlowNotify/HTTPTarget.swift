/// An `http://host[:port][/path]` URL, parsed without Foundation (no TLS: use a local relay).
public struct HTTPTarget: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var path: String
    public init?(url: String) {
        guard url.hasPrefix("http://") else { return nil }
        let rest = url.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        path = slash == rest.endIndex ? "/" : String(rest[slash...])
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            guard let p = Int(authority[authority.index(after: colon)...]), (1...65535).contains(p) else { return nil }
            host = String(authority[..<colon])
            port = p
        } else {
            host = String(authority)
            port = 80
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { return nil }
    }
    /// The same host and port with another path (for example `/api/v2/alerts`).
    public func with(path p: String) -> HTTPTarget {
        var t = self
        t.path = (path.hasSuffix("/") ? String(path.dropLast()) : path) + p
        if t.path.isEmpty { t.path = "/" }
        return t
    }
}
