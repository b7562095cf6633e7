// Decode benchmark: FeedDecoder.decode (scan, identifiable-data checks, envelope, types,
// ranges) of every line of a JSON Lines file, single core, results consumed. Not a test.
//
//   Scripts/build-release --product urgentflow-bench-decode
//   .build/release/urgentflow-bench-decode FILE [--config YAML] [--repeat N]
//
// The file is mmapped and split on '\n' (a trailing '\r' is dropped, as the ingest framer
// does); the split is timed separately and not counted in the decode figure. The default
// configuration is the bundled Scenarios/herts-west-essex.yaml (the units of `generate bench`).
import FlowCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

func fail(_ s: String) -> Never {
    FileHandle.standardError.write((s + "\n").data(using: .utf8)!)
    exit(2)
}

var path: String?
var configPath = "Scenarios/herts-west-essex.yaml"
var repeats = 3
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--config": configPath = args.popFirst() ?? configPath
    case "--repeat": repeats = max(1, Int(args.popFirst() ?? "") ?? repeats)
    default:
        if a.hasPrefix("-") || path != nil { fail("usage: urgentflow-bench-decode FILE [--config YAML] [--repeat N]") }
        path = a
    }
}
guard let path else { fail("usage: urgentflow-bench-decode FILE [--config YAML] [--repeat N]") }

let config: SystemConfig
do {
    let text = try String(contentsOfFile: configPath, encoding: .utf8)
    config = try ConfigLoader.load(yaml: text, file: configPath)
} catch {
    fail("cannot load \(configPath): \(error)")
}

let fd = open(path, O_RDONLY)
guard fd >= 0 else { fail("cannot open \(path)") }
var st = stat()
guard fstat(fd, &st) == 0, st.st_size > 0 else { fail("cannot stat \(path) (or it is empty)") }
let size = Int(st.st_size)
guard let map = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), map != MAP_FAILED else { fail("mmap failed") }
let base = UnsafePointer(map.assumingMemoryBound(to: UInt8.self))

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

// Split once (touches every page, so the timed loops run from memory).
var t = now()
var starts: [Int32] = []
var ends: [Int32] = []
do {
    var i = 0
    while i < size {
        var e = i
        if let nl = memchr(base + i, 10, size - i) {
            e = base.distance(to: nl.assumingMemoryBound(to: UInt8.self))
        } else {
            e = size
        }
        var end = e
        if end > i, base[end - 1] == 13 { end -= 1 }
        starts.append(Int32(i)); ends.append(Int32(end))
        i = e + 1
    }
}
let splitSeconds = now() - t
let lines = starts.count

/// One timed pass: decode every line, consume every result.
func pass(_ decoder: inout FeedDecoder, _ base: UnsafePointer<UInt8>, _ starts: [Int32], _ ends: [Int32],
          countReasons: Bool, _ reasons: inout [RejectionReason: Int])
    -> (seconds: Double, accepted: Int, rejected: Int, checksum: UInt64) {
    var accepted = 0, rejected = 0
    var checksum: UInt64 = 0
    let t = now()
    starts.withUnsafeBufferPointer { starts in
        ends.withUnsafeBufferPointer { ends in
            for k in 0..<starts.count {
                let s = Int(starts[k]), e = Int(ends[k])
                switch decoder.decode(UnsafeBufferPointer(start: base + s, count: e - s)) {
                case .success(let m):
                    accepted &+= 1
                    checksum = checksum &+ m.idHash &+ UInt64(bitPattern: m.at.millis) &+ UInt64(m.site)
                case .failure(let r):
                    rejected &+= 1
                    if countReasons { reasons[r.reason, default: 0] += 1 }
                }
            }
        }
    }
    return (now() - t, accepted, rejected, checksum)
}

var decoder = FeedDecoder(units: config.units)
var best = Double.infinity
var accepted = 0, rejected = 0
var checksum: UInt64 = 0
var reasons: [RejectionReason: Int] = [:]
for round in 0..<repeats {
    let r = pass(&decoder, base, starts, ends, countReasons: round == 0, &reasons)
    (accepted, rejected, checksum) = (r.accepted, r.rejected, r.checksum)
    best = min(best, r.seconds)
}
let rate = Double(lines) / best
print("file        \(path) (\(size) bytes, \(lines) lines, split \(String(format: "%.3f", splitSeconds)) s)")
print("decoded     \(accepted) accepted, \(rejected) rejected \(reasons.isEmpty ? "" : "\(reasons)") checksum \(String(checksum, radix: 16))")
print("best of \(repeats)   \(String(format: "%.3f", best)) s  \(String(format: "%.0f", rate)) lines/s  \(String(format: "%.0f", best * 1e9 / Double(lines))) ns/line  \(String(format: "%.0f", Double(size) / best / 1e6)) MB/s")
