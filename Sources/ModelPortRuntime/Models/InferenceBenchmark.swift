import Foundation

/// In-process inference measurements: batched throughput and single-sample
/// latency on generated inputs, as onnxruntime's perf test and TensorFlow's
/// benchmark tool report them.
public enum InferenceBenchmark {
    /// Throughput at one batch size over several repetitions.
    public struct Throughput: Sendable {
        public let batchSize: Int
        /// Images per second in each repetition.
        public let samples: [Double]
        public var median: Double { InferenceBenchmark.percentile(samples, 50) }
        public var min: Double { samples.min() ?? 0 }
        public var max: Double { samples.max() ?? 0 }
    }

    /// Single-sample latency distribution, in milliseconds.
    public struct Latency: Sendable {
        public let milliseconds: [Double]
        public var p50: Double { InferenceBenchmark.percentile(milliseconds, 50) }
        public var p90: Double { InferenceBenchmark.percentile(milliseconds, 90) }
        public var p99: Double { InferenceBenchmark.percentile(milliseconds, 99) }
        public var mean: Double { milliseconds.reduce(0, +) / Double(Swift.max(1, milliseconds.count)) }
    }

    /// Deterministic inputs in [0, 1) shaped `[count] + sampleShape`.
    public static func inputs(count: Int, sampleShape: [Int], seed: UInt64 = 42) -> Tensor {
        var state = seed
        let n = count * sampleShape.reduce(1, *)
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            values[i] = Float(state >> 40) / Float(1 << 24)
        }
        return Tensor(shape: [count] + sampleShape, scalars: values)
    }

    /// Runs `images` samples through `model` in batches of `batchSize`,
    /// `repetitions` times (after one warm-up pass), timing each pass.
    /// - Parameter data: samples to cycle through (default: generated inputs).
    public static func throughput(_ model: any Model, batchSize: Int, images: Int, repetitions: Int,
                                  data: Tensor? = nil) throws -> Throughput {
        precondition(batchSize > 0 && images > 0 && repetitions > 0)
        let source = data ?? inputs(count: batchSize, sampleShape: model.inputShape)
        // Consecutive batches of the source, wrapping around, prepared before timing.
        let calls = Swift.max(1, images / batchSize)
        let distinct = Swift.min(calls, Swift.max(1, source.batchCount / batchSize))
        let batches = (0..<distinct).map { k -> Tensor in
            if source.batchCount >= batchSize { return source.batch((k * batchSize)..<((k + 1) * batchSize)) }
            let picked = (0..<batchSize).flatMap { source.sample($0 % source.batchCount) }
            return Tensor(shape: [batchSize] + source.sampleShape, scalars: picked)
        }
        _ = try model.predict(batches[0])
        var rates: [Double] = []
        for _ in 0..<repetitions {
            let start = DispatchTime.now().uptimeNanoseconds
            for c in 0..<calls { _ = try model.predict(batches[c % distinct]) }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            rates.append(Double(calls * batchSize) / seconds)
        }
        return Throughput(batchSize: batchSize, samples: rates)
    }

    /// Times `runs` single-sample forward passes (after `warmup` untimed ones).
    public static func latency(_ model: any Model, runs: Int, warmup: Int = 20, data: Tensor? = nil) throws -> Latency {
        let one = data.map { $0.batch(0..<1) } ?? inputs(count: 1, sampleShape: model.inputShape)
        for _ in 0..<warmup { _ = try model.predict(one) }
        var times: [Double] = []
        times.reserveCapacity(runs)
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try model.predict(one)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return Latency(milliseconds: times)
    }

    /// Time spent in one layer during `layerProfile`.
    public struct LayerTime: Sendable {
        public let layer: String
        public let typeName: String
        /// Median over the repetitions, per sample, in microseconds.
        public let microsecondsPerSample: Double
    }

    /// Times each layer of a Sequential model on one batch of `batchSize`
    /// generated samples, on the calling thread, `repetitions` times (after
    /// a warm-up): where a forward pass spends its time.
    /// - Throws: `RuntimeError` for models other than `Sequential`.
    public static func layerProfile(_ model: any Model, batchSize: Int, repetitions: Int) throws -> [LayerTime] {
        guard let sequential = model as? Sequential else {
            throw RuntimeError("a per-layer profile needs a Sequential model; '\(model.name)' is \(type(of: model))")
        }
        precondition(batchSize > 0 && repetitions > 0)
        let input = inputs(count: batchSize, sampleShape: model.inputShape)
        var times = Array(repeating: [Double](), count: sequential.layers.count)
        for repetition in 0...repetitions {
            var x = input
            for (i, layer) in sequential.layers.enumerated() {
                let start = DispatchTime.now().uptimeNanoseconds
                x = layer.forward(x)
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3 / Double(batchSize)
                if repetition > 0 { times[i].append(elapsed) }
            }
        }
        return zip(sequential.layers, times).map {
            LayerTime(layer: $0.name, typeName: $0.typeName, microsecondsPerSample: percentile($1, 50))
        }
    }

    /// The `p`-th percentile (nearest rank) of `values`.
    public static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
        return sorted[Swift.min(Swift.max(rank, 0), sorted.count - 1)]
    }
}
