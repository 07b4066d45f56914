import Foundation

/// Settings of one `fit`, with Keras's defaults.
public struct FitOptions: Sendable {
    public var epochs = 1
    public var batchSize = 32
    /// Reshuffle the training samples every epoch (seeded by `seed`).
    public var shuffle = true
    /// Seeds shuffling and dropout. Weights are initialised separately
    /// (`Initializers.initialize`).
    public var seed: UInt64 = 0
    /// Fraction of the samples, taken from the *end* before any shuffling
    /// (Keras: `split_at = floor(n * (1 - validation_split))`), held out for validation.
    public var validationSplit: Double = 0
    /// Epoch to start at (when resuming), zero-based.
    public var initialEpoch = 0

    public init(epochs: Int = 1, batchSize: Int = 32, shuffle: Bool = true, seed: UInt64 = 0,
                validationSplit: Double = 0, initialEpoch: Int = 0) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.validationSplit = validationSplit
        self.initialEpoch = initialEpoch
    }
}

/// A request to stop training after the current batch, safe to set from a
/// signal handler's queue while training runs.
public final class StopRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var requested = false
    public init() {}
    public func request() { lock.lock(); requested = true; lock.unlock() }
    public var isRequested: Bool { lock.lock(); defer { lock.unlock() }; return requested }
}

/// Trains a model like Keras's `model.fit`, and evaluates it like
/// `model.evaluate`.
///
/// Each batch is split into at most `threads` contiguous chunks (fixed by
/// the batch size and thread count alone). Each chunk runs forward, loss and
/// backward on its own thread into its own zeroed `Gradients` (in pieces of
/// `pieceSize` samples that stay in cache); the chunk gradients are then
/// summed in chunk order and applied. So the same seed and thread count give
/// bit-identical weights on a machine, however the threads are scheduled
/// (the piece size follows the L2 cache size, and the BLAS kernels the CPU). Models with batch statistics (BatchNormalization) run each
/// batch as one chunk, so the statistics are the whole batch's, as in Keras.
public final class Trainer: @unchecked Sendable {
    public let model: any Model
    public let graph: TrainingGraph
    public var optimizer: Optimizer
    public let loss: Loss
    public let accuracy: Accuracy
    /// Threads a batch is split over (default: the core count).
    public var threads: Int
    /// Set by a callback to end training after the current epoch.
    public var stopTraining = false
    /// Set from outside (Ctrl-C) to end training after the current batch.
    public let stopRequest = StopRequest()
    private var chunkGradients: [Gradients] = []
    /// Samples run through forward and backward at once within a thread's
    /// chunk (see `trainStep`).
    public let pieceSize: Int

    /// - Throws: `RuntimeError` when a layer cannot be trained or the model
    ///   does not have exactly one input and one output.
    public init(model: any Model, loss: Loss, optimizer: Optimizer, threads: Int = RuntimeThreads.count) throws {
        guard model.inputShapes.count == 1, model.outputShapes.count == 1 else {
            throw RuntimeError("model '\(model.name)' has \(model.inputShapes.count) inputs and \(model.outputShapes.count) outputs; training supports one of each")
        }
        self.model = model
        self.graph = try TrainingGraph(model)
        self.loss = loss
        self.optimizer = optimizer
        self.accuracy = Accuracy(loss: loss, outputUnits: model.outputShape.last ?? 1)
        self.threads = max(1, threads)
        self.pieceSize = Trainer.pieceSize(for: model)
        AllocatorTuning.applyOnce
    }

    /// Trains for `options.epochs` epochs (from `options.initialEpoch`).
    /// - Parameters:
    ///   - x: inputs, `[n] + model.inputShape` (NHWC images for a CNN).
    ///   - y: targets: one-hot/probabilities like the output, or class
    ///     indices (`[n]`) for sparse categorical cross-entropy.
    ///   - validationData: evaluated after every epoch instead of a split.
    /// - Returns: the per-epoch history (partial and marked `interrupted` when stopped by `stopRequest`).
    /// - Throws: `RuntimeError` for inputs or targets that do not fit the model, or from a callback.
    public func fit(x: Tensor, y: Tensor, options: FitOptions = FitOptions(),
                    validationData: (x: Tensor, y: Tensor)? = nil,
                    callbacks: [any TrainingCallback] = []) throws -> History {
        try checkData(x, y, what: "training")
        guard options.batchSize > 0, options.epochs >= 0 else {
            throw RuntimeError("batch size must be positive and epochs non-negative (got \(options.batchSize), \(options.epochs))")
        }
        guard options.validationSplit >= 0 && options.validationSplit < 1 else {
            throw RuntimeError("validation split must be in [0, 1), got \(options.validationSplit)")
        }
        let n = x.batchCount
        var trainCount = n
        var validation: (x: Tensor, y: Tensor, range: Range<Int>)? = nil
        if let validationData {
            try checkData(validationData.x, validationData.y, what: "validation")
            validation = (validationData.x, validationData.y, 0..<validationData.x.batchCount)
        } else if options.validationSplit > 0 {
            trainCount = Int((Double(n) * (1 - options.validationSplit)).rounded(.down))
            guard trainCount > 0 && trainCount < n else {
                throw RuntimeError("validation split \(options.validationSplit) of \(n) samples leaves no training or no validation samples")
            }
            validation = (x, y, trainCount..<n)
        }

        stopTraining = false
        var history = History()
        let chunks = graph.needsWholeBatch ? 1 : threads
        chunkGradients = (0..<chunks).map { _ in Gradients(parameters: graph.trainableParameters) }
        if optimizer.parameters.isEmpty { optimizer.build(graph.trainableParameters) }
        for c in callbacks { try c.trainBegin(self) }
        let batches = (trainCount + options.batchSize - 1) / options.batchSize
        var interrupted = false
        var order = Array(0..<trainCount)
        epochs: for epoch in options.initialEpoch..<max(options.initialEpoch, options.epochs) {
            for c in callbacks { try c.epochBegin(epoch, trainer: self) }
            if options.shuffle {
                var rng = SplitMix64(seed: SplitMix64.mix(options.seed ^ 0xD1B5_4A32_D192_ED03) ^ UInt64(epoch))
                order = Array(0..<trainCount)
                order.shuffle(using: &rng)
            }
            var lossSum: Double = 0, correct: Double = 0, seen = 0
            for b in 0..<batches {
                let indices = order[(b * options.batchSize)..<min(trainCount, (b + 1) * options.batchSize)]
                let xb = gather(x, indices), yb = gather(y, indices)
                let result = trainStep(xb, yb, seed: options.seed)
                lossSum += result.loss
                correct += result.correct
                seen += indices.count
                let logs = EpochLogs([("loss", lossSum / Double(seen)), ("accuracy", correct / Double(seen))])
                for c in callbacks { try c.batchEnd(b, of: batches, logs: logs, trainer: self) }
                if stopRequest.isRequested { interrupted = true; break epochs }
            }
            var logs = EpochLogs([("loss", lossSum / Double(max(seen, 1))), ("accuracy", correct / Double(max(seen, 1)))])
            if let validation {
                let result = evaluate(x: validation.x, y: validation.y, range: validation.range, batchSize: options.batchSize)
                logs["val_loss"] = result.loss
                logs["val_accuracy"] = result.accuracy
            }
            for c in callbacks { try c.epochEnd(epoch, logs: &logs, trainer: self) }
            history.append(epoch: epoch, logs: logs)
            if stopTraining || stopRequest.isRequested { interrupted = stopRequest.isRequested && !stopTraining; break }
        }
        history.interrupted = interrupted
        for c in callbacks { try c.trainEnd(self, interrupted: interrupted) }
        return history
    }

    /// How many samples go through forward and backward together: as many as
    /// keep what a training pass holds per sample (every layer's output plus
    /// unfolded columns, caches and gradients: about 6 bytes per output
    /// element in all) within the per-core L2 cache. For the tutorial CNN that
    /// is 4, which trained ~1.3x faster than whole 32-sample chunks
    /// (docs/BENCHMARKS.md); small dense models keep their whole chunk.
    static func pieceSize(for model: any Model) -> Int {
        let elements = model.summary.reduce(0) { $0 + $1.outputShape.reduce(1, *) }
        return max(1, CacheSizes.level2 / max(1, 6 * elements))
    }

    /// One optimizer step on one batch: forward, loss, backward per chunk,
    /// chunk gradients summed in order, optimizer update.
    /// - Returns: the batch's summed loss and number of correct predictions.
    @discardableResult
    public func trainStep(_ xb: Tensor, _ yb: Tensor, seed: UInt64 = 0) -> (loss: Double, correct: Double) {
        let count = xb.batchCount
        if chunkGradients.isEmpty {
            chunkGradients = (0..<(graph.needsWholeBatch ? 1 : threads)).map { _ in Gradients(parameters: graph.trainableParameters) }
        }
        let chunkSize = (count + chunkGradients.count - 1) / chunkGradients.count
        let used = (count + chunkSize - 1) / chunkSize
        // Each chunk writes its own slot: (loss, correct).
        let results = UnsafeMutableBufferPointer<Double>.allocate(capacity: 2 * used)
        defer { results.deallocate() }
        nonisolated(unsafe) let out = results
        let step = optimizer.iterations
        let piece = graph.needsWholeBatch ? count : pieceSize
        let work: @Sendable (Int) -> Void = { [self] i in
            let range = (i * chunkSize)..<min(count, (i + 1) * chunkSize)
            let gradients = chunkGradients[i]
            gradients.zero()
            var lossSum: Double = 0, correct: Double = 0
            // Pieces of the chunk run forward and backward one after another,
            // adding into the chunk's gradients: each piece's feature maps stay
            // in cache between layers.
            var start = range.lowerBound
            while start < range.upperBound {
                let part = start..<min(range.upperBound, start + piece)
                let whole = part.count == count
                let xc = whole ? xb : xb.batch(part), yc = whole ? yb : yb.batch(part)
                let context = TrainingContext(training: true, seed: seed, step: step, sampleOffset: part.lowerBound)
                let trace = graph.forward([xc], context: context)
                let logits = graph.logits(of: trace, output: 0, ifActivation: loss.logitActivations)
                let (l, g) = loss.evaluate(output: trace.outputs[0], logits: logits, target: yc, batchSize: count)
                graph.backward(trace, outputGradients: [g], gradients: gradients, inputGradients: false)
                lossSum += l
                correct += accuracy.correctSum(output: trace.outputs[0], target: yc)
                start = part.upperBound
            }
            out[2 * i] = lossSum
            out[2 * i + 1] = correct
        }
        if used == 1 {
            work(0)
        } else {
            // The caller's kernel family (CPUKernels.with) on every worker thread.
            let kernels = CPUKernels.current
            DispatchQueue.concurrentPerform(iterations: used) { i in CPUKernels.$scoped.withValue(kernels) { work(i) } }
        }
        // Fixed summation order: chunk 0 + chunk 1 + ...
        let total = chunkGradients[0]
        for i in 1..<used { total.add(chunkGradients[i]) }
        optimizer.apply(total)
        var lossSum: Double = 0, correct: Double = 0
        for i in 0..<used { lossSum += results[2 * i]; correct += results[2 * i + 1] }
        return (lossSum, correct)
    }

    /// Mean loss and accuracy over samples `range` (default all) in inference
    /// mode, like Keras's `evaluate`: batches of `batchSize`, each split over
    /// the threads, loss from the logits behind a softmax/sigmoid output.
    public func evaluate(x: Tensor, y: Tensor, range: Range<Int>? = nil, batchSize: Int = 32) -> (loss: Double, accuracy: Double) {
        let range = range ?? 0..<x.batchCount
        guard !range.isEmpty else { return (.nan, .nan) }
        var lossSum: Double = 0, correct: Double = 0
        var start = range.lowerBound
        while start < range.upperBound {
            let end = min(range.upperBound, start + batchSize)
            let xb = x.batch(start..<end), yb = y.batch(start..<end)
            let count = end - start
            let chunkSize = (count + threads - 1) / threads
            let used = (count + chunkSize - 1) / chunkSize
            let results = UnsafeMutableBufferPointer<Double>.allocate(capacity: 2 * used)
            defer { results.deallocate() }
            nonisolated(unsafe) let out = results
            let piece = graph.needsWholeBatch ? count : pieceSize
            let kernels = CPUKernels.current
            DispatchQueue.concurrentPerform(iterations: used) { [self] i in CPUKernels.$scoped.withValue(kernels) {
                let r = (i * chunkSize)..<min(count, (i + 1) * chunkSize)
                var lossSum: Double = 0, correct: Double = 0
                // In cache-sized pieces, as in training.
                var start = r.lowerBound
                while start < r.upperBound {
                    let part = start..<min(r.upperBound, start + piece)
                    let xc = xb.batch(part), yc = yb.batch(part)
                    let trace = graph.forward([xc], context: .inference)
                    let logits = graph.logits(of: trace, output: 0, ifActivation: loss.logitActivations)
                    lossSum += loss.evaluate(output: trace.outputs[0], logits: logits, target: yc, batchSize: count).lossSum
                    correct += accuracy.correctSum(output: trace.outputs[0], target: yc)
                    start = part.upperBound
                }
                out[2 * i] = lossSum
                out[2 * i + 1] = correct
            } }
            for i in 0..<used { lossSum += results[2 * i]; correct += results[2 * i + 1] }
            start = end
        }
        return (lossSum / Double(range.count), correct / Double(range.count))
    }

    /// Inference on a batch (`Model.predict`, spread over the threads).
    public func predict(_ x: Tensor, batchSize: Int = 32) throws -> Tensor {
        try model.predict(x, chunkSize: batchSize)
    }

    private func checkData(_ x: Tensor, _ y: Tensor, what: String) throws {
        guard x.sampleShape == model.inputShape else {
            throw RuntimeError("\(what) inputs have sample shape \(x.sampleShape); model '\(model.name)' expects \(model.inputShape)")
        }
        guard x.batchCount == y.batchCount else {
            throw RuntimeError("\(what) data has \(x.batchCount) inputs but \(y.batchCount) targets")
        }
        let out = model.outputShape
        let rows = out.dropLast().reduce(1, *)
        let expected = loss.targetRowLength(outputRowLength: out.last ?? 1) * rows
        guard y.sampleCount == expected else {
            throw RuntimeError("\(what) targets have sample shape \(y.sampleShape); \(loss.kerasName) on output \(out) needs \(expected) value(s) per sample")
        }
        if case .sparseCategoricalCrossentropy = loss {
            let classes = out.last ?? 1
            if let bad = y.scalars.first(where: { $0 < 0 || $0 >= Float(classes) || $0 != $0.rounded() }) {
                throw RuntimeError("\(what) labels must be class indices 0..<\(classes); found \(bad)")
            }
        }
    }

    /// The samples at `indices`, in that order, as one batch.
    private func gather(_ t: Tensor, _ indices: ArraySlice<Int>) -> Tensor {
        let per = t.sampleCount
        var out = [Float](repeating: 0, count: indices.count * per)
        t.scalars.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (k, i) in indices.enumerated() {
                    (dst.baseAddress! + k * per).update(from: src.baseAddress! + i * per, count: per)
                }
            }
        }
        return Tensor(shape: [indices.count] + t.sampleShape, scalars: out)
    }
}
