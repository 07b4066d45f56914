import Foundation
import Testing
import TestSupport

/// `--untrusted`: files are parsed in an isolated, resource-limited child.
struct UntrustedTests {
    let model = "fixtures/mnist_digit_model.h5"
    let reference = "fixtures/mnist_digit_model.reference.h5"

    /// One byte of the tutorial model changed (offset 7174 to 0xFD, found by
    /// mutating the file) makes Debian's libhdf5 1.10.8 read past a global
    /// heap (SIGSEGV in H5HG_read) while ModelPort reads an attribute.
    static func libhdf5Crasher() throws -> String {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("mnist_digit_model.h5")))
        bytes[7174] = 0xFD
        let path = TestPaths.temporaryDirectory("untrusted").appendingPathComponent("crafted.h5").path
        try bytes.write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func aFileThatCrashesLibhdf5IsAnErrorNotACrash() throws {
        let path = try Self.libhdf5Crasher()
        for command in [["inspect", path], ["predict", path, "--input", reference], ["convert", path, path + ".onnx"]] {
            let r = try TestPaths.runModelPort(command + ["--untrusted"])
            #expect(r.status == 2, "\(command): \(r.stderr)")
            #expect(r.stderr.contains("\(path): the reader crashed (SIGSEGV) on it in the isolated process"), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: path + ".onnx"))
        }
    }

    @Test func untrustedFilesGiveTheSameAnswers() throws {
        let trusted = try TestPaths.runModelPort(["predict", model, "--input", reference, "--limit", "20", "--json"])
        let isolated = try TestPaths.runModelPort(["predict", model, "--input", reference, "--limit", "20", "--json", "--untrusted"])
        #expect(trusted.status == 0 && isolated.status == 0, "\(isolated.stderr)")
        #expect(isolated.stdout == trusted.stdout)
        let inspect = try TestPaths.runModelPort(["inspect", "fixtures/coverage/cov_conv.keras", "--untrusted"])
        #expect(inspect.stdout.contains("File:      fixtures/coverage/cov_conv.keras"))
        #expect(inspect.stdout.contains("Format:    Keras 3 archive (.keras)"))
        let validate = try TestPaths.runModelPort(["validate", model, "--reference", reference, "--untrusted"])
        #expect(validate.status == 0 && validate.stdout.contains("PASSED"), "\(validate.stderr)")
    }

    /// The child's own error comes through, naming the file.
    @Test func theChildsErrorsNameTheFile() throws {
        let directory = TestPaths.temporaryDirectory("untrusted")
        let fifo = directory.appendingPathComponent("x.h5").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let r = try TestPaths.runModelPort(["inspect", fifo, "--untrusted"])
        #expect(r.status == 2)
        #expect(r.stderr == "error: \(fifo): is a FIFO (named pipe), not a regular file\n", "\(r.stderr)")
    }

    /// A file that needs more memory than the child may have is stopped there.
    @Test func theChildsMemoryIsLimited() throws {
        let r = try TestPaths.runModelPort(["inspect", model, "--untrusted"], environment: ["MODELPORT_UNTRUSTED_MEMORY": "64M"])
        #expect(r.status == 2)
        #expect(r.stderr.contains(model) && r.stderr.contains("MODELPORT_UNTRUSTED_MEMORY"), "\(r.stderr)")
    }
}
