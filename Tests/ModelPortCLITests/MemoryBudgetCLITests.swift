import Foundation
import ModelPortKeras
import ModelPortRuntime
import Testing
import TestSupport

/// A batch or a model too large for the memory limit is refused before
/// anything is allocated: exit 2 with a message naming the model file and the
/// batch, never an abort. Runs are bounded in time and address space, so the
/// old behaviour (allocating until the process aborts) fails fast.
struct MemoryBudgetCLITests {
    let model = "fixtures/mnist_digit_model.h5"
    /// Far more than the refusals need, far less than the old allocations.
    let addressSpace = 3 << 30

    @Test func hugeBatchIsRefused() throws {
        let run = try runModelPortBounded(["bench", model, "--batch", "100000000", "--images", "1", "--repetitions", "1",
                                           "--runs", "1"], timeout: 30, addressSpace: addressSpace)
        #expect(run.exited(2), "\(run.summary)")
        #expect(run.stderr.contains("\(model): running the model on a batch of 100000000"), "\(run.stderr)")
        #expect(run.stderr.contains("more than the memory limit"), "\(run.stderr)")
    }

    /// A model whose 4096x4096 input makes gigabytes of feature maps from a
    /// few kilobytes of weights.
    @Test func hugeActivationsAreRefused() throws {
        let directory = TestPaths.temporaryDirectory("budget")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("wide_input.h5").path
        let side = 4096, filters = 32
        let net = try Sequential(name: "wide_input", inputShape: [side, side, 1], layers: [
            Conv2D(name: "conv2d", inputChannels: 1, filters: filters, kernelSize: (3, 3), activation: .relu),
            GlobalPooling2D(name: "global_average_pooling2d", kind: .average),
            Dense(name: "dense", inputUnits: filters, units: 10, activation: .softmax),
        ])
        try KerasWriter.write(net, to: path)
        // The feature map alone is (side - 2)^2 * filters floats for one image.
        let featureMap = (side - 2) * (side - 2) * filters * MemoryLayout<Float>.size
        let limit = featureMap / 2
        let run = try runModelPortBounded(["bench", path, "--batch", "1", "--images", "1", "--repetitions", "1", "--runs", "1"],
                                          timeout: 60, addressSpace: addressSpace,
                                          environment: ["MODELPORT_MEMORY_LIMIT": String(limit)])
        #expect(run.exited(2), "\(run.summary)")
        // Refused at import (one sample's feature map is over the limit) or, if it fitted there, before the run.
        #expect(run.stderr.contains("\(path): running the model on a batch of 1 ")
                || run.stderr.contains("\(path): layer 'conv2d' (Conv2D): one sample of its output"), "\(run.stderr)")
        #expect(run.stderr.contains("MODELPORT_MEMORY_LIMIT"), "\(run.stderr)")
        // The estimate counts at least the feature map.
        let estimate = try MemoryEstimate.inferenceBytes(net, batch: 1, threads: 1)
        #expect(estimate >= featureMap)
    }

    /// `predict --dump` keeps every layer's output for the whole input at once:
    /// checked on its own, after the prediction itself fitted.
    @Test func dumpIsChecked() throws {
        let directory = TestPaths.temporaryDirectory("budget")
        defer { try? FileManager.default.removeItem(at: directory) }
        let images = TestPaths.mnistDirectory.appendingPathComponent("t10k-images-idx3-ubyte.gz").path
        let dump = directory.appendingPathComponent("dump.h5").path
        let run = try runModelPortBounded(["predict", model, "--input", images, "--dump", "conv2d", "--dump-file", dump,
                                           "--memory-limit", "200M"], timeout: 60, addressSpace: addressSpace)
        #expect(run.exited(2), "\(run.summary)")
        #expect(run.stderr.contains("\(model): every layer's output for --dump on a batch of 10000"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dump))
    }

    /// --memory-limit on each command that runs a model.
    @Test func memoryLimitOption() throws {
        let cases: [(arguments: [String], batch: String)] = [
            // 64K is below the tutorial model's weights: refused as it is imported, naming the file.
            (["predict", model, "fixtures/images/3"], "\(model): "),
            (["evaluate", model, "--images", "fixtures/images"], "\(model): "),
            (["bench", model, "--batch", "4"], "\(model): "),
            (["train", "--arch", "mnist_mlp", "--limit", "64", "--data", TestPaths.mnistDirectory.path],
             "--arch mnist_mlp: training on batches of 32 "),
        ]
        for (arguments, message) in cases {
            let refused = try runModelPortBounded(arguments + ["--memory-limit", "64K"], timeout: 60, addressSpace: addressSpace)
            #expect(refused.exited(2), "\(arguments): \(refused.summary)")
            #expect(refused.stderr.contains(message) && refused.stderr.contains("memory limit of 64.0 KB"), "\(arguments): \(refused.stderr)")
        }
        let bad = try runModelPortBounded(["bench", model, "--memory-limit", "lots"], timeout: 30)
        #expect(bad.exited(64), "\(bad.summary)")
        #expect(bad.stderr.contains("'lots' is invalid for '--memory-limit"), "\(bad.stderr)")
        #expect(try runModelPortBounded(["bench", "--help"], timeout: 30).stdout.contains("MODELPORT_MEMORY_LIMIT"))
    }
}
