import Foundation
import ModelPortKeras
import ModelPortRuntime
import Testing
import TestSupport

/// A conversion stopped by SIGTERM or SIGINT while it writes leaves no
/// temporary file behind (a killed `convert` once left gigabytes of them).
@Suite(.serialized) struct InterruptTests {
    /// A 256 MB model, so that writing it takes long enough to be interrupted.
    static let bigModel: String = {
        let path = TestPaths.temporaryDirectory("interrupt-source").appendingPathComponent("big.h5").path
        let model = try! Sequential(name: "big", inputShape: [8192], layers: [Dense(name: "dense", inputUnits: 8192, units: 8192)])
        try! KerasWriter.write(model, to: path)
        return path
    }()

    @Test(arguments: [SIGTERM, SIGINT])
    func anInterruptedConversionLeavesNoTemporaryFiles(_ signal: Int32) throws {
        let directory = TestPaths.temporaryDirectory("interrupt")
        let scratch = TestPaths.temporaryDirectory("interrupt-tmp")
        let output = directory.appendingPathComponent("out.keras").path
        let process = Process()
        // The test runner may ignore SIGINT/SIGTERM, and children inherit that
        // (as under nohup, where ModelPort leaves them ignored): reset them.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["--default-signal=INT,TERM", TestPaths.modelportExecutable.path,
                             "convert", Self.bigModel, output, "--no-verify"]
        process.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": scratch.path]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until the output's temporary file exists, then interrupt.
        let deadline = Date().addingTimeInterval(60)
        var sawTemporary = false
        while process.isRunning && Date() < deadline {
            if try FileManager.default.contentsOfDirectory(atPath: directory.path).contains(where: { $0.hasPrefix(".out.keras.tmp-") }) {
                sawTemporary = true
                kill(process.processIdentifier, signal)
                break
            }
            usleep(2_000)
        }
        process.waitUntilExit()
        #expect(sawTemporary, "the conversion finished before it could be interrupted")
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == signal)
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(left == [], "\(left)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == [])
    }
}
