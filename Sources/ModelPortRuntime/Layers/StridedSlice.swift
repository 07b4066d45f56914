/// `x[..., 2]`, `x[..., ::-1]`, `x[:, 1:5:2]`: numpy-style indexing of each
/// sample axis by a `start:stop:step` range (Python's semantics: negative
/// values count from the end, omitted bounds mean the whole axis in the
/// step's direction) or by a single index, which drops the axis. Shapes
/// exclude the batch axis, which is always kept whole.
public final class StridedSlice: Layer, @unchecked Sendable {
    public enum Axis: Sendable, Equatable {
        case range(start: Int?, stop: Int?, step: Int)
        case index(Int)

        /// The whole axis, `:`.
        public static let all = Axis.range(start: nil, stop: nil, step: 1)
    }

    public let name: String
    /// One entry per sample axis.
    public let axes: [Axis]
    public var typeName: String { "ops.get_item" }

    public init(name: String, axes: [Axis]) {
        self.name = name
        self.axes = axes
    }

    /// The input positions `axis` selects on an axis of size `n`, in output order.
    /// - Throws: `RuntimeError` for a zero step or an index outside the axis.
    public static func positions(_ axis: Axis, size n: Int) throws -> [Int] {
        switch axis {
        case .index(let i):
            let j = i < 0 ? i + n : i
            guard j >= 0, j < n else { throw RuntimeError("index \(i) is outside an axis of size \(n)") }
            return [j]
        case .range(let start, let stop, let step):
            guard step != 0 else { throw RuntimeError("a slice step cannot be zero") }
            // Python's slice.indices(n).
            let (lower, upper) = step > 0 ? (0, n) : (-1, n - 1)
            func clamp(_ v: Int?, _ fallback: Int) -> Int {
                guard let v else { return fallback }
                return v < 0 ? max(v + n, lower) : min(v, upper)
            }
            let first = clamp(start, step > 0 ? lower : upper)
            let end = clamp(stop, step > 0 ? upper : lower)
            return Array(stride(from: first, to: end, by: step))
        }
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard axes.count == inputShape.count else {
            throw RuntimeError("indexes \(axes.count) axes, but one sample has \(inputShape.count) (\(inputShape))")
        }
        var shape: [Int] = []
        for (axis, n) in zip(axes, inputShape) {
            let selected = try Self.positions(axis, size: n)
            if case .range = axis {
                guard !selected.isEmpty else { throw RuntimeError("selects nothing from an axis of size \(n)") }
                shape.append(selected.count)
            }
        }
        return shape
    }

    /// For each element of one output sample, its position in the input sample.
    func sourceIndices(sampleShape: [Int]) -> [Int] {
        // Shapes were checked by outputShape(for:) before any forward pass.
        let selected = zip(axes, sampleShape).map { (try? Self.positions($0, size: $1)) ?? [] }
        var strides = [Int](repeating: 1, count: sampleShape.count)
        for k in stride(from: sampleShape.count - 2, through: 0, by: -1) { strides[k] = strides[k + 1] * sampleShape[k + 1] }
        var indices = [0]
        for k in 0..<selected.count {
            indices = indices.flatMap { base in selected[k].map { base + $0 * strides[k] } }
        }
        return indices
    }

    public func forward(_ input: Tensor) -> Tensor {
        let indices = sourceIndices(sampleShape: input.sampleShape)
        let per = input.sampleCount
        let batch = input.batchCount
        var scalars = [Float](repeating: 0, count: batch * indices.count)
        for b in 0..<batch {
            for (o, i) in indices.enumerated() { scalars[b * indices.count + o] = input.scalars[b * per + i] }
        }
        // The shape was accepted by outputShape(for:), so this cannot throw.
        let out = (try? outputShape(for: input.sampleShape)) ?? [indices.count]
        return Tensor(shape: [batch] + out, scalars: scalars)
    }
}

// MARK: - Training

extension StridedSlice: TrainableLayer {
    /// The input's sample shape (the gradient goes back to the positions read).
    public struct Cache: LayerCache {
        public let inputSampleShape: [Int]
    }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        (forward(input), Cache(inputSampleShape: input.sampleShape))
    }

    /// dX is zero except at the positions read, which get dY (added, should
    /// a position be read twice).
    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let shape = (cache as! Cache).inputSampleShape
        let indices = sourceIndices(sampleShape: shape)
        let per = shape.reduce(1, *)
        let batch = outputGradient.batchCount
        var dx = Tensor(zeros: [batch] + shape)
        for b in 0..<batch {
            for (o, i) in indices.enumerated() { dx.scalars[b * per + i] += outputGradient.scalars[b * indices.count + o] }
        }
        return dx
    }
}
