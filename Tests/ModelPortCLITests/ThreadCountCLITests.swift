import Foundation
import Testing
import TestSupport

/// `--threads`: every count from 1 to 256 works on any number of cores (more
/// threads than cores used to hang `bench` at batch 1), for each command that
/// runs a model, and the answers do not depend on it; others are usage errors.
struct ThreadCountCLITests {
    let model = "fixtures/mnist_digit_model.h5"
    static let counts = [1, 3, 64, 256]

    func json(_ run: BoundedRun) throws -> [String: Any] {
        try #require(run.exited(0), "\(run.summary)")
        return try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    }

    @Test(arguments: counts) func bench(threads: Int) throws {
        let run = try runModelPortBounded(["bench", model, "--threads", String(threads), "--batch", "1", "--batch", "5",
                                           "--images", "10", "--repetitions", "1", "--runs", "20", "--json"])
        let object = try json(run)
        #expect(object["threads"] as? Int == threads)
        #expect((object["latency_ms_p50"] as? Double ?? 0) > 0)
    }

    /// Same classes and probabilities (to float rounding) as one thread.
    @Test(arguments: counts.dropFirst()) func predict(threads: Int) throws {
        func probabilities(_ threads: Int) throws -> [[Double]] {
            let object = try json(try runModelPortBounded(["predict", model, "fixtures/images/3", "fixtures/images/8/",
                                                           "--threads", String(threads), "--json"]))
            let predictions = try #require(object["predictions"] as? [[String: Any]])
            return predictions.map { $0["probabilities"] as? [Double] ?? [] }
        }
        let one = try probabilities(1), many = try probabilities(threads)
        #expect(one.count == many.count && !one.isEmpty)
        for (a, b) in zip(one, many) {
            #expect(a.count == b.count && !a.isEmpty)
            #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 }, "\(a) vs \(b)")
        }
    }

    @Test(arguments: counts.dropFirst()) func evaluate(threads: Int) throws {
        func report(_ threads: Int) throws -> (Double?, [Int]) {
            let object = try json(try runModelPortBounded(["evaluate", model, "--images", "fixtures/images",
                                                           "--threads", String(threads), "--json"]))
            return (object["accuracy"] as? Double, object["predictions"] as? [Int] ?? [])
        }
        let one = try report(1), many = try report(threads)
        #expect(one.0 != nil && one.0 == many.0)
        #expect(!one.1.isEmpty && one.1 == many.1)
    }

    /// A few batches of the small MLP: training runs to the end with any count.
    @Test(arguments: counts) func train(threads: Int) throws {
        let directory = TestPaths.temporaryDirectory("threads")
        defer { try? FileManager.default.removeItem(at: directory) }
        let results = directory.appendingPathComponent("results.json").path
        let run = try runModelPortBounded(["train", "--arch", "mnist_mlp", "--epochs", "1", "--limit", "96",
                                           "--batch-size", "32", "--validation-split", "0", "--threads", String(threads),
                                           "--data", TestPaths.mnistDirectory.path, "--results", results], timeout: 120)
        #expect(run.exited(0), "\(run.summary)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: results))) as? [String: Any])
        #expect(summary["threads"] as? Int == threads)
        #expect((summary["test_accuracy"] as? Double).map { $0 > 0 } == true)
    }

    @Test(arguments: ["bench", "predict", "evaluate", "train"]) func outOfRangeIsAUsageError(command: String) throws {
        let target = command == "train" ? ["--arch", "mnist_mlp"] : [model]
        for value in ["--threads=0", "--threads=-1", "--threads=257"] {
            let run = try runModelPortBounded([command] + target + [value] + (command == "predict" ? ["fixtures/images/3"] : []),
                                              timeout: 30)
            #expect(run.exited(64), "\(command) \(value): \(run.summary)")
            #expect(run.stderr.contains("--threads must be from 1 to 256"), "\(command) \(value): \(run.stderr)")
        }
    }
}
