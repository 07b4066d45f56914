/// A dense float32 tensor in row-major order.
///
/// Layout convention for the whole runtime (as in Keras, "channels_last"):
/// the first axis is the batch; images are NHWC (batch, height, width,
/// channels); a Dense layer works on the last axis.
public struct Tensor: Sendable, Equatable {
    /// Extent of each axis, batch first.
    public private(set) var shape: [Int]
    /// The elements, row-major; `scalars.count == shape.reduce(1, *)`.
    public var scalars: [Float]

    /// - Precondition: `scalars.count` equals the product of `shape`.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(scalars.count == shape.reduce(1, *),
                     "\(scalars.count) scalars do not fill shape \(shape)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor whose elements the caller will overwrite, every one, before
    /// reading any (skips zero-filling buffers on the hot path).
    public init(uninitialized shape: [Int]) {
        let n = shape.reduce(1, *)
        self.shape = shape
        self.scalars = [Float](unsafeUninitializedCapacity: n) { _, count in count = n }
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    public var rank: Int { shape.count }
    public var count: Int { scalars.count }
    /// The batch size (first axis).
    public var batchCount: Int { shape.first ?? 1 }
    /// The shape of one sample: every axis but the first.
    public var sampleShape: [Int] { Array(shape.dropFirst()) }
    /// Elements per sample.
    public var sampleCount: Int { sampleShape.reduce(1, *) }

    /// The same elements under another shape.
    /// - Precondition: the element counts agree.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, scalars: scalars)
    }

    /// Samples `range` of the batch, as a new tensor.
    public func batch(_ range: Range<Int>) -> Tensor {
        precondition(range.lowerBound >= 0 && range.upperBound <= batchCount, "batch range \(range) outside 0..<\(batchCount)")
        let per = sampleCount
        return Tensor(shape: [range.count] + sampleShape,
                      scalars: Array(scalars[(range.lowerBound * per)..<(range.upperBound * per)]))
    }

    /// One sample's elements.
    public func sample(_ index: Int) -> ArraySlice<Float> {
        let per = sampleCount
        return scalars[(index * per)..<((index + 1) * per)]
    }
}
