/// A trained network that runs inference on batches.
///
/// Shapes in `inputShapes`/`outputShapes` are per sample (no batch axis);
/// tensors passed to `forward` carry the batch axis first. Most models have
/// one input and one output: `inputShape`, `outputShape`, `forward(_:)` and
/// `predict(_:)` are the single-tensor forms.
public protocol Model: AnyObject, Sendable {
    var name: String { get }
    var inputShapes: [[Int]] { get }
    var outputShapes: [[Int]] { get }
    /// Names of the inputs, parallel to `inputShapes`: the input layers'
    /// names, as Keras's `[t.name for t in model.inputs]`.
    var inputNames: [String] { get }
    /// Names of the outputs, parallel to `outputShapes`: the names of the
    /// layers producing them, a repeated name suffixed `_1`, `_2`... as
    /// Keras's `model.output_names`.
    var outputNames: [String] { get }
    /// Every distinct layer, in execution order (a shared layer appears once).
    var layers: [any Layer] { get }
    /// Runs all layers on one batch on the calling thread.
    /// - Precondition: one tensor per input, each of the declared sample shape.
    func forward(inputs: [Tensor]) -> [Tensor]
    /// Runs the model and returns every layer's output (a shared layer's
    /// first use), in execution order, for per-layer comparison.
    func layerOutputs(inputs: [Tensor]) -> [(layer: String, output: Tensor)]
    /// The rows of a `model.summary()`-like table.
    var summary: [LayerSummary] { get }
    /// Floats per sample of the largest tensor `forward` materialises (a
    /// fused pair of layers produces only its second output). Sizes
    /// `defaultChunkSize`; the default is the widest layer output.
    var largestActivation: Int { get }
}

/// One row of a model summary.
public struct LayerSummary: Sendable, Equatable {
    public let name: String
    public let typeName: String
    /// Output shape of one sample (no batch axis).
    public let outputShape: [Int]
    public let parameterCount: Int
    /// Names of the layers feeding this one (functional models; empty otherwise).
    public let inbound: [String]

    public init(name: String, typeName: String, outputShape: [Int], parameterCount: Int, inbound: [String] = []) {
        self.name = name
        self.typeName = typeName
        self.outputShape = outputShape
        self.parameterCount = parameterCount
        self.inbound = inbound
    }
}

extension Model {
    public var largestActivation: Int { summary.map { $0.outputShape.reduce(1, *) }.max() ?? 1 }

    public var inputShape: [Int] { inputShapes[0] }
    public var outputShape: [Int] { outputShapes[0] }

    /// Number of scalar weights in all layers.
    public var parameterCount: Int { layers.reduce(0) { $0 + $1.parameterCount } }

    /// Scalar weights training updates (Keras's "Trainable params"): not
    /// BatchNorm statistics, not frozen layers.
    public var trainableParameterCount: Int {
        layers.flatMap(\.parameters).filter(\.isUpdated).reduce(0) { $0 + $1.value.count }
    }

    /// Single-input, single-output forward pass.
    public func forward(_ input: Tensor) -> Tensor { forward(inputs: [input])[0] }

    /// Runs inference on a batch of a single-input, single-output model,
    /// spreading chunks of at most `chunkSize` samples (default:
    /// `defaultChunkSize`) over `RuntimeThreads.count` threads.
    /// - Throws: `RuntimeError` when the samples do not have `inputShape`.
    public func predict(_ input: Tensor, chunkSize: Int? = nil) throws -> Tensor {
        guard inputShapes.count == 1, outputShapes.count == 1 else {
            throw RuntimeError("model '\(name)' has \(inputShapes.count) inputs and \(outputShapes.count) outputs; use predict(inputs:)")
        }
        return try predict(inputs: [input], chunkSize: chunkSize)[0]
    }

    /// Runs inference on a batch, spreading chunks of at most `chunkSize`
    /// samples (default: `defaultChunkSize`) over `RuntimeThreads.count`
    /// threads. Chunks are fixed by the sizes alone, so results do not
    /// depend on timing. What that needs is checked against `MemoryBudget`
    /// first (a library caller gets the same guard as the commands).
    /// - Throws: `RuntimeError` when the inputs do not match `inputShapes`, or
    ///   the batch would need more memory than the limit.
    public func predict(inputs: [Tensor], chunkSize: Int? = nil) throws -> [Tensor] {
        guard inputs.count == inputShapes.count else {
            throw RuntimeError("model '\(name)' takes \(inputShapes.count) inputs, got \(inputs.count)")
        }
        for (i, (x, shape)) in zip(inputs, inputShapes).enumerated() where x.sampleShape != shape {
            throw RuntimeError("model '\(name)' expects input \(i) samples of shape \(shape), got \(x.sampleShape)")
        }
        let n = inputs[0].batchCount
        guard inputs.allSatisfy({ $0.batchCount == n }) else {
            throw RuntimeError("model '\(name)': inputs have different batch sizes \(inputs.map(\.batchCount))")
        }
        try MemoryBudget.check(MemoryEstimate.inferenceBytes(self, batch: n, chunkSize: chunkSize),
                               for: "model '\(name)' on a batch of \(n)")
        AllocatorTuning.applyOnce
        let sizes = outputShapes.map { $0.reduce(1, *) }
        // Chunks write disjoint ranges of buffers owned here, then become tensors.
        let buffers = sizes.map { UnsafeMutableBufferPointer<Float>.allocate(capacity: n * $0) }
        defer { buffers.forEach { $0.deallocate() } }
        nonisolated(unsafe) let destinations = buffers
        // A single sample cannot be spread over threads by batch: its layers split their own work.
        let intraOp = n == 1 ? RuntimeThreads.count : 1
        // The caller's kernel family (CPUKernels.with), on every worker thread.
        let kernels = CPUKernels.current
        parallelChunks(total: n, maxChunk: max(1, chunkSize ?? defaultChunkSize)) { range in
            let ys = CPUKernels.$scoped.withValue(kernels) {
                IntraOp.$threads.withValue(intraOp) { forward(inputs: inputs.map { $0.batch(range) }) }
            }
            for (k, y) in ys.enumerated() {
                y.scalars.withUnsafeBufferPointer { src in
                    (destinations[k].baseAddress! + range.lowerBound * sizes[k]).update(from: src.baseAddress!, count: src.count)
                }
            }
        }
        return zip(outputShapes, buffers).map { Tensor(shape: [n] + $0, scalars: Array($1)) }
    }
}

extension Model {
    /// How many samples `predict` runs through the layers at once by
    /// default: as many as keep a layer's input, output and working buffers
    /// — about four times the largest activation — within the per-core L2
    /// cache, between 1 and 32. Feature maps that stay in cache from one
    /// layer to the next ran the tutorial CNN ~1.5x faster than 32-sample
    /// chunks spilling to L3 (docs/PERFORMANCE.md); a small dense model
    /// still gets 32-row matrix products.
    public var defaultChunkSize: Int {
        let (bytesPerSample, overflow) = (4 * MemoryLayout<Float>.size).multipliedReportingOverflow(by: max(1, largestActivation))
        return overflow ? 1 : min(32, max(1, CacheSizes.level2 / bytesPerSample))
    }
}
