import Foundation
import ModelPortFuzzTargets

// One executable for every fuzz target: Swift has no per-target `main` under
// libFuzzer, so the target comes from MODELPORT_FUZZ_TARGET (fuzzing) or the
// first argument (replay). tools/fuzz/run.sh builds and runs it.

#if FUZZING
/// The target chosen at start-up; libFuzzer's callback cannot capture it.
nonisolated(unsafe) private var selectedTarget = FuzzTarget.kerasConfig
/// MODELPORT_FUZZ_MESSAGES=1: an error message that does not name the file,
/// or prints Swift internals, is a finding too (`FuzzTarget.messageProblem`).
nonisolated(unsafe) private var checkMessages = false

/// libFuzzer's entry point: one input, any outcome but a crash is fine.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    if let error = selectedTarget.run(bytes), checkMessages, let problem = FuzzTarget.messageProblem(error) {
        fatalError("error message \(problem)")
    }
    return 0
}

/// libFuzzer's driver, linked in by `-sanitize=fuzzer`. SwiftPM links an
/// executable with `main` aliased to this module's `@main`, so the driver is
/// started from there rather than from libFuzzer's own `main`.
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@main
enum FuzzMain {
    static func main() {
        let name = ProcessInfo.processInfo.environment["MODELPORT_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("set MODELPORT_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
            exit(2)
        }
        selectedTarget = target
        checkMessages = ProcessInfo.processInfo.environment["MODELPORT_FUZZ_MESSAGES"] == "1"
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, fuzzOneInput))
    }
}
#else
/// Replays saved inputs through a target without the sanitizers:
/// `ModelPortFuzz TARGET FILE_OR_DIRECTORY...`, one line per input.
@main
enum FuzzReplay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name), arguments.count >= 2 else {
            print("usage: ModelPortFuzz TARGET FILE_OR_DIRECTORY...\ntargets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
            exit(2)
        }
        var count = 0
        for path in arguments.dropFirst() {
            for file in inputFiles(path) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    print("\(file): cannot be read")
                    exit(1)
                }
                let outcome = target.run([UInt8](data)).map { "\($0)".split(separator: "\n").first.map(String.init) ?? "" } ?? "accepted"
                print("\(file): \(outcome)")
                count += 1
            }
        }
        print("\(count) inputs replayed through \(target.rawValue), none crashed")
    }

    /// `path` itself, or the regular files under it, sorted.
    static func inputFiles(_ path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return [path] }
        let names = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String]) ?? []
        return names.sorted().map { "\(path)/\($0)" }.filter {
            var d: ObjCBool = false
            return FileManager.default.fileExists(atPath: $0, isDirectory: &d) && !d.boolValue
        }
    }
}
#endif
