/// A model with one input and one output that can run inference on batches.
public protocol Model: AnyObject, Sendable {
    var name: String { get }
    /// The shape of one input sample (no batch axis).
    var inputShape: [Int] { get }
    /// The shape of one output sample (no batch axis).
    var outputShape: [Int] { get }
    /// Every layer, in execution order.
    var layers: [any Layer] { get }
    /// Runs all layers on one batch on the calling thread.
    func forward(_ input: Tensor) -> Tensor
}

/// One row of a model summary.
public struct LayerSummary: Sendable, Equatable {
    public let name: String
    public let typeName: String
    /// Output shape of one sample (no batch axis).
    public let outputShape: [Int]
    public let parameterCount: Int
}

extension Model {
    /// Number of scalar weights in all layers.
    public var parameterCount: Int { layers.reduce(0) { $0 + $1.parameterCount } }

    /// Runs inference on a batch, spreading chunks of at most `chunkSize`
    /// samples over `RuntimeThreads.count` threads.
    /// - Throws: `RuntimeError` when the samples do not have `inputShape`.
    public func predict(_ input: Tensor, chunkSize: Int = 32) throws -> Tensor {
        guard input.sampleShape == inputShape else {
            throw RuntimeError("model '\(name)' expects input samples of shape \(inputShape), got \(input.sampleShape)")
        }
        let n = input.batchCount
        let outPer = outputShape.reduce(1, *)
        var output = Tensor(zeros: [n] + outputShape)
        output.scalars.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let out = out
            parallelChunks(total: n, maxChunk: chunkSize) { range in
                let y = forward(input.batch(range))
                y.scalars.withUnsafeBufferPointer { src in
                    (out.baseAddress! + range.lowerBound * outPer).update(from: src.baseAddress!, count: src.count)
                }
            }
        }
        return output
    }
}
