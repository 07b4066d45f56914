import Foundation

/// What running a model will allocate, computed from its shapes alone before
/// anything is allocated, so `MemoryBudget` can refuse a tiny file that
/// declares a huge model or a huge batch instead of the process aborting.
///
/// The figures follow what the runtime really holds at its peak: the weights
/// (and the kernels' packed copy of them), the batch's inputs and outputs,
/// and for every chunk running at once its layer inputs, outputs and working
/// buffers (im2col columns, padded images); training adds every layer's cache
/// and gradient, one gradient set per chunk and the optimizer's state. They
/// are upper bounds: arithmetic that overflows is an error, not a trap.
public enum MemoryEstimate {
    /// Bytes of all weights, counted twice: the kernels keep a packed copy.
    /// - Throws: `RuntimeError` when the size overflows.
    public static func weightBytes(_ model: any Model) throws -> Int {
        var total = 0
        for layer in model.layers {
            for parameter in layer.parameters {
                total = try MemoryBudget.sum(total, MemoryBudget.bytes(ofShape: parameter.shape))
            }
        }
        return try product(2, total)
    }

    /// Peak bytes of `Model.predict` on `batch` samples with `threads`
    /// threads, weights included (`chunkSize` as `predict`'s).
    /// - Throws: `RuntimeError` when a size overflows or a layer rejects its input shape.
    public static func inferenceBytes(_ model: any Model, batch: Int, threads: Int = RuntimeThreads.count,
                                      chunkSize: Int? = nil) throws -> Int {
        let batch = max(0, batch)
        let chunk = max(1, min(chunkSize ?? model.defaultChunkSize, batch))
        let chunks = (batch + chunk - 1) / chunk
        let concurrent = max(1, min(chunks, max(1, threads), RuntimeThreads.cores))
        let inputs = try model.inputShapes.reduce(0) { try MemoryBudget.sum($0, elements($1)) }
        let outputs = try model.outputShapes.reduce(0) { try MemoryBudget.sum($0, elements($1)) }
        // The batch's inputs, the output buffers and the tensors made from them.
        let whole = try product(batch, MemoryBudget.sum(inputs, product(2, outputs)))
        // Each running chunk: its slice of the inputs and the forward pass's peak.
        let perChunk = try product(chunk, MemoryBudget.sum(inputs, forwardPeak(model)))
        let floats = try MemoryBudget.sum(whole, product(concurrent, perChunk))
        return try MemoryBudget.sum(weightBytes(model), product(MemoryLayout<Float>.size, floats))
    }

    /// Bytes of `Model.layerOutputs` on `batch` samples: every layer's
    /// output for the whole batch at once, weights included.
    /// - Throws: `RuntimeError` when a size overflows.
    public static func layerOutputsBytes(_ model: any Model, batch: Int) throws -> Int {
        var perSample = try model.inputShapes.reduce(0) { try MemoryBudget.sum($0, elements($1)) }
        for row in model.summary { perSample = try MemoryBudget.sum(perSample, elements(row.outputShape)) }
        let floats = try product(max(0, batch), perSample)
        return try MemoryBudget.sum(weightBytes(model), product(MemoryLayout<Float>.size, floats))
    }

    /// Peak bytes of training on batches of `batchSize` with `threads`
    /// threads in pieces of `pieceSize` samples (as `Trainer` splits them),
    /// with an optimizer keeping `optimizerSlots` values per weight (Adam: 2).
    /// The training data itself is not included.
    /// - Throws: `RuntimeError` when a size overflows or a layer rejects its input shape.
    public static func trainingBytes(_ model: any Model, batchSize: Int, threads: Int, pieceSize: Int,
                                     wholeBatch: Bool = false, optimizerSlots: Int = 2) throws -> Int {
        let batchSize = max(1, batchSize)
        let threads = max(1, threads)
        let chunkCount = wholeBatch ? 1 : threads
        let chunkSize = (batchSize + chunkCount - 1) / chunkCount
        let used = (batchSize + chunkSize - 1) / chunkSize
        let concurrent = max(1, min(used, RuntimeThreads.cores))
        let piece = max(1, min(wholeBatch ? batchSize : pieceSize, chunkSize))
        let weights = try weightBytes(model) / 2
        // Per weight: one gradient per chunk, the optimizer's slots, and the weight and its packed copy.
        let fixed = try product(weights, MemoryBudget.sum(MemoryBudget.sum(chunkCount, optimizerSlots), 2))
        let inputs = try elements(model.inputShape), outputs = try elements(model.outputShape)
        // The gathered batch (inputs and targets), then per running piece: every
        // layer's output, cache and gradient, and the largest working buffer.
        let batchFloats = try product(batchSize, MemoryBudget.sum(inputs, outputs))
        let pieceFloats = try product(piece, trainingPeak(model))
        let floats = try MemoryBudget.sum(batchFloats, product(concurrent, pieceFloats))
        return try MemoryBudget.sum(fixed, product(MemoryLayout<Float>.size, floats))
    }

    /// Each layer application with its input and output sample shapes, in
    /// execution order (nil for a kind of model other than these two).
    static func steps(_ model: any Model) -> [(layer: any Layer, input: [Int], output: [Int])]? {
        if let sequential = model as? Sequential {
            let inputs = [sequential.inputShape] + sequential.layerOutputShapes.dropLast()
            return sequential.layers.indices.map { (sequential.layers[$0], inputs[$0], sequential.layerOutputShapes[$0]) }
        }
        if let functional = model as? Functional {
            return functional.nodes.indices.compactMap { i in
                let node = functional.nodes[i]
                guard let first = node.inputs.first else { return nil }
                return (node.layer, functional.nodeOutputShapes[first], functional.nodeOutputShapes[i])
            }
        }
        return nil
    }

    /// Floats per sample alive at the peak of one forward pass: for a
    /// Sequential model the largest layer input plus output plus working
    /// buffer; a functional model keeps every node's output until the end.
    static func forwardPeak(_ model: any Model) throws -> Int {
        let input = try model.inputShapes.reduce(0) { try MemoryBudget.sum($0, elements($1)) }
        guard let steps = steps(model) else {
            // Another kind of model: every layer output at once, and its widest once more.
            let outputs = try model.summary.reduce(0) { try MemoryBudget.sum($0, elements($1.outputShape)) }
            return try MemoryBudget.sum(MemoryBudget.sum(input, outputs), model.largestActivation)
        }
        var peak = input, kept = input, work = 0
        for step in steps {
            let output = try elements(step.output)
            let buffers = try workspace(step.layer, input: step.input)
            peak = max(peak, try MemoryBudget.sum(MemoryBudget.sum(elements(step.input), output), buffers))
            kept = try MemoryBudget.sum(kept, output)
            work = max(work, buffers)
        }
        return model is Functional ? try MemoryBudget.sum(kept, work) : peak
    }

    /// Floats per sample a training piece holds: every layer's output and
    /// cache (its input or unfolded columns) and, on the way back, the
    /// gradient of each, plus the model input.
    static func trainingPeak(_ model: any Model) throws -> Int {
        var total = try elements(model.inputShape)
        for step in steps(model) ?? model.layers.indices.map({ (model.layers[$0], [], model.summary[$0].outputShape) }) {
            // Output, pre-activation and gradient; the unfolded columns kept for backward.
            let output = try product(3, elements(step.output))
            total = try MemoryBudget.sum(total, MemoryBudget.sum(output, workspace(step.layer, input: step.input)))
        }
        return total
    }

    /// Working buffers `layer`'s forward pass allocates beyond its output,
    /// in floats per sample.
    static func workspace(_ layer: any Layer, input: [Int]) throws -> Int {
        switch layer {
        case let conv as Conv2D:
            guard input.count == 3 else { return 0 }
            let g = try conv.geometry(for: input)
            // im2col's columns (OpenBLAS) or the padded copy of the images (own kernels).
            let columns = try product(product(g.outHeight, g.outWidth), g.patchLength(channels: conv.inputChannels))
            let padded = try product(product(g.inHeight + g.kernelHeight, g.inWidth + g.kernelWidth), conv.inputChannels)
            return max(columns, padded)
        case let transposed as Conv2DTranspose:
            guard input.count == 3 else { return 0 }
            // One contribution per input pixel and (ky, kx, filter).
            let window = try product(product(transposed.kernelSize.height, transposed.kernelSize.width), transposed.filters)
            return try product(product(input[0], input[1]), window)
        case let separable as SeparableConv2D:
            // The depthwise result the pointwise product reads.
            guard input.count == 3 else { return 0 }
            let multiplier = separable.depthwiseKernel.shape.last ?? 1
            return try product(elements(input), multiplier)
        default:
            return 0
        }
    }

    /// Elements of one sample of `shape`.
    static func elements(_ shape: [Int]) throws -> Int {
        try MemoryBudget.bytes(ofShape: shape, elementSize: 1)
    }

    static func product(_ a: Int, _ b: Int) throws -> Int {
        let (result, overflow) = a.multipliedReportingOverflow(by: b)
        guard !overflow, result >= 0 else { throw RuntimeError("sizes multiply to more than can be addressed") }
        return result
    }
}

extension MemoryBudget {
    /// Throws unless `Model.predict` on `batch` samples fits the limit.
    /// - Parameter file: the model's file, for the message.
    /// - Throws: `RuntimeError` naming the file, the batch and the sizes.
    public static func checkInference(_ model: any Model, batch: Int, file: String,
                                      threads: Int = RuntimeThreads.count) throws {
        let bytes: Int
        do {
            bytes = try MemoryEstimate.inferenceBytes(model, batch: batch, threads: threads)
        } catch let error as RuntimeError {
            throw RuntimeError("\(file): running the model on a batch of \(batch): \(error.message)")
        }
        try check(bytes, for: "\(file): running the model on a batch of \(batch) with \(threads) threads")
    }

    /// Throws unless training on batches of `batchSize` fits the limit.
    /// - Parameter file: the model's file (or architecture), for the message.
    /// - Throws: `RuntimeError` naming the file, the batch and the sizes.
    public static func checkTraining(_ model: any Model, batchSize: Int, threads: Int, pieceSize: Int,
                                     wholeBatch: Bool, file: String) throws {
        let bytes: Int
        do {
            bytes = try MemoryEstimate.trainingBytes(model, batchSize: batchSize, threads: threads, pieceSize: pieceSize,
                                                     wholeBatch: wholeBatch)
        } catch let error as RuntimeError {
            throw RuntimeError("\(file): training on batches of \(batchSize): \(error.message)")
        }
        try check(bytes, for: "\(file): training on batches of \(batchSize) with \(threads) threads")
    }
}
