import ArgumentParser
import Foundation
import ModelPortReports
import ModelPortFormats
import ModelPortData
import ModelPortRuntime

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure a model's inference speed on this machine: batched throughput and single-image latency.",
        discussion: """
            Runs in-process on generated inputs of the model's input shape (values in [0, 1)), \
            like onnxruntime's perf test: for each batch size, --repetitions timed passes over \
            --images images after a warm-up pass (median and min-max reported), then --runs \
            single-image predictions for latency percentiles. The model load time is reported too.

            Examples:
              modelport bench fixtures/mnist_digit_model.h5
              modelport bench model.h5 --batch 1 --batch 128 --threads 1
              modelport bench model.h5 --json | jq .images_per_second

            Convolutions and dense layers run on ModelPort's own kernels for the CPU's widest \
            instruction set (AVX-512 or AVX2+FMA), else through OpenBLAS; --kernels (or the \
            MODELPORT_KERNELS environment variable) picks one, to compare them.

            --json prints one object: model, images_per_second (at batch_size: 128, or the first --batch), \
            latency_ms_p50, latency_ms_p90, latency_ms_p99, latency_ms_mean, load_ms, threads, \
            kernels, blas, inputs, throughput (per batch size) and, with --layers, layers.

            For a side-by-side comparison with Keras and onnxruntime, see tools/bench/run.py \
            and docs/BENCHMARKS.md.
            """)

    @OptionGroup var modelFile: ModelFileArgument
    var model: String { modelFile.model }

    @Option(name: .customLong("batch"), help: "Batch size to measure (repeatable; default 1, 32, 128, 1024).")
    var batches: [Int] = []

    @OptionGroup var runtime: RuntimeOptions

    @Option(help: "MNIST-style IDX image file (.gz or raw) to run on instead of generated inputs (pixels scaled to [0, 1]).")
    var input: String?

    @Option(help: "Images per timed pass.")
    var images: Int = 10_000

    @Option(help: "Timed passes per batch size.")
    var repetitions: Int = 5

    @Option(help: "Single-image predictions timed for latency.")
    var runs: Int = 1000

    @Option(help: "Compute kernels: auto (the CPU's widest), avx512, avx2, or blas (OpenBLAS). Default: MODELPORT_KERNELS, else auto.")
    var kernels: CPUKernels.Choice?

    @Flag(help: "Also time each layer (Sequential models) on one thread at the first --batch size (default 128), one layer at a time (predict fuses a ReLU convolution with the pooling after it), and name each convolution's algorithm.")
    var layers = false

    @OptionGroup var format: OutputFormatOptions
    var json: Bool { format.json }

    func validate() throws {
        if batches.contains(where: { $0 < 1 }) { throw ValidationError("--batch must be at least 1") }
        if images < 1 || repetitions < 1 || runs < 1 { throw ValidationError("--images, --repetitions and --runs must be at least 1") }
    }

    @OptionGroup var trust: TrustOptions

    func run() throws {
        trust.apply()
        try runReportingErrors {
            runtime.apply()
            if let kernels { try CPUKernels.select(kernels) }
            let loadStart = Date()
            let file = try modelFile.load()
            let loadMs = Date().timeIntervalSince(loadStart) * 1000
            let m = file.model
            if layers, !(m is Sequential) {
                // Say so before minutes of throughput runs, not after.
                throw RuntimeError("--layers needs a Sequential model; '\(m.name)' is a functional model (its per-layer outputs can be compared with `modelport validate --layers`)")
            }
            let sizes = batches.isEmpty ? [1, 32, 128, 1024] : batches
            for size in Set(sizes + [1]).sorted(by: >) { try MemoryBudget.checkInference(m, batch: size, file: model) }
            let data = try input.map { try MNIST.images(IDXFile(contentsOf: $0), sampleShape: m.inputShape) }
            var results: [InferenceBenchmark.Throughput] = []
            for size in sizes {
                results.append(try InferenceBenchmark.throughput(m, batchSize: size, images: max(images, size),
                                                                 repetitions: repetitions, data: data))
            }
            let latency = try InferenceBenchmark.latency(m, runs: runs, data: data)
            let headline = results.first { $0.batchSize == 128 } ?? results[0]
            let profile = try layers ? InferenceBenchmark.layerProfile(m, batchSize: batches.first ?? 128, repetitions: repetitions) : nil
            if json {
                var object: [String: Any] = [
                    "model": model, "threads": RuntimeThreads.count, "load_ms": loadMs, "blas": BLAS.description,
                    "kernels": CPUKernels.description,
                    "inputs": input ?? "generated",
                    "images_per_second": headline.median, "batch_size": headline.batchSize,
                    "latency_ms_p50": latency.p50, "latency_ms_p90": latency.p90, "latency_ms_p99": latency.p99,
                    "latency_ms_mean": latency.mean,
                    "throughput": results.map {
                        ["batch_size": $0.batchSize, "images_per_second": $0.median, "min": $0.min, "max": $0.max,
                         "repetitions": $0.samples.count] as [String: Any]
                    },
                ]
                if let profile {
                    object["layers"] = zip(profile, algorithms(m)).map { t, algorithm in
                        var entry: [String: Any] = ["name": t.layer, "type": t.typeName, "microseconds_per_sample": t.microsecondsPerSample]
                        if let algorithm { entry["algorithm"] = algorithm }
                        return entry
                    }
                }
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            print("Model:   \(model) (\"\(m.name)\", \(grouped(m.parameterCount)) parameters, input \(kerasShape(m.inputShape)))")
            print("Threads: \(RuntimeThreads.count)    load time: \(String(format: "%.1f", loadMs)) ms")
            print("Kernels: \(CPUKernels.description)\(CPUKernels.family == nil ? "" : " (ModelPort's own)")")
            print("BLAS:    \(BLAS.description)\n")
            var table = TextTable(headers: ["batch", "images/s (median)", "min - max"], rightAligned: [0, 1, 2])
            for r in results {
                table.rows.append([String(r.batchSize), grouped(Int(r.median.rounded())),
                                   "\(grouped(Int(r.min.rounded()))) - \(grouped(Int(r.max.rounded())))"])
            }
            print(table.render())
            print(String(format: "Single-image latency over %d runs: p50 %.3f ms, p90 %.3f ms, p99 %.3f ms",
                         runs, latency.p50, latency.p90, latency.p99))
            if let profile {
                let total = profile.reduce(0) { $0 + $1.microsecondsPerSample }
                print("\nPer layer, one thread, batch \(batches.first ?? 128) (median of \(repetitions)):")
                var table = TextTable(headers: ["layer", "type", "algorithm", "µs/image", "share"], rightAligned: [3, 4])
                for (t, algorithm) in zip(profile, algorithms(m)) {
                    table.rows.append([t.layer, t.typeName, algorithm ?? "", String(format: "%.2f", t.microsecondsPerSample),
                                       String(format: "%.1f%%", 100 * t.microsecondsPerSample / max(total, 1e-9))])
                }
                table.rows.append(["total", "", "", String(format: "%.2f", total), "100.0%"])
                print(table.render())
            }
        }
    }

    /// Each layer's convolution algorithm when run alone (nil for other layers).
    private func algorithms(_ model: any Model) -> [String?] {
        guard let s = model as? Sequential else { return [] }
        return s.layers.indices.map { i in
            guard let conv = s.layers[i] as? Conv2D else { return nil }
            return (try? conv.inferenceAlgorithm(inputShape: i == 0 ? s.inputShape : s.layerOutputShapes[i - 1]))?.rawValue
        }
    }
}

extension CPUKernels.Choice: ExpressibleByArgument {}
