import FlowCore

/// Feeds arbitrary text to the configuration loader: it must load or report problems, never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigLoader(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let c = try ConfigLoader.load(yaml: text, file: "fuzz.yaml")
        _ = FlowEngine(config: c).snapshot()
    } catch {
        precondition(!error.problems.isEmpty)
        for p in error.problems { precondition(!p.description.isEmpty) }
    }
    return 0
}

// SwiftPM links an executable target's entry point as `FuzzConfigLoader_main`; hand it to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32) -> Int32

@_cdecl("FuzzConfigLoader_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v, fuzzConfigLoader)
}
