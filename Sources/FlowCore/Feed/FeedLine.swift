/// Which lines of a feed are no message at all.
public enum FeedLine {
    /// An empty line: nothing in it, or nothing but JSON whitespace (spaces, tabs, `\r`).
    /// The decoder refuses such a line as malformed ("empty line at column 4"); every reader of
    /// a feed asks this first and counts it apart instead: live framing (`LineBatch`, so a TCP
    /// sender is answered `empty_line`), the journal's reader, `HeadlessReplay` (`replay`,
    /// `check`) and the dashboard's replay. One test, so that they agree on what is empty:
    /// a line of spaces was refused live and in a replay, where a line with nothing in it was
    /// counted apart.
    ///
    /// A feed's lines begin with `{`: the first byte decides nearly every line at one
    /// comparison, and the line is walked only when it begins with whitespace (or another
    /// control byte). The replay's cost a line is counted in instructions (README, "Measured").
    @inlinable
    public static func isEmpty(_ line: UnsafeRawBufferPointer) -> Bool {
        guard let first = line.first else { return true }
        return first <= 32 && isAllWhitespace(line)
    }

    @inlinable
    public static func isEmpty(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        isEmpty(UnsafeRawBufferPointer(line))
    }

    /// The scanner's own whitespace (`JSONLineScanner.skipWS`), so that a line empty here is
    /// exactly a line the decoder would call an empty line.
    @usableFromInline
    static func isAllWhitespace(_ line: UnsafeRawBufferPointer) -> Bool {
        guard let base = line.baseAddress else { return true }
        return JSONLineScanner.skipWS(base.assumingMemoryBound(to: UInt8.self), line.count, 0) == line.count
    }
}
