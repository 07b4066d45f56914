/// Numpy-style broadcasting between tensors of equal rank: an axis of size 1
/// stretches to the other tensors' size on that axis (Keras's merge layers,
/// e.g. the squeeze-and-excitation `Multiply` of [H, W, C] by [1, 1, C]).
public enum Broadcasting {
    /// The common shape of `shapes` (equal ranks; each axis equal or 1).
    /// - Throws: `RuntimeError` naming the shapes when they do not broadcast.
    public static func shape(_ shapes: [[Int]]) throws -> [Int] {
        guard let first = shapes.first else { return [] }
        guard shapes.allSatisfy({ $0.count == first.count }) else {
            throw RuntimeError("inputs must have equal ranks to broadcast, got \(shapes)")
        }
        var out = first
        for s in shapes.dropFirst() {
            for k in 0..<out.count where s[k] != out[k] {
                if out[k] == 1 { out[k] = s[k] } else if s[k] != 1 {
                    throw RuntimeError("inputs must have equal shapes or broadcast (axes of size 1), got \(shapes)")
                }
            }
        }
        return out
    }

    /// The element strides of a tensor of `shape` read at `outputShape`:
    /// 0 on the axes it is broadcast along.
    static func strides(of shape: [Int], in outputShape: [Int]) -> [Int] {
        var strides = [Int](repeating: 0, count: shape.count)
        var step = 1
        for k in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[k] = shape[k] == 1 && outputShape[k] != 1 ? 0 : step
            step *= shape[k]
        }
        return strides
    }

    /// For each element of `outputShape` in row-major order, the offsets of
    /// the corresponding element of each input (shapes of `inputShapes`).
    /// Calls `body(outputOffset, inputOffsets)` once per innermost run of
    /// `run` elements, along which input `k` advances by `innerStrides[k]`.
    static func forEachRun(outputShape: [Int], inputShapes: [[Int]],
                           _ body: (_ output: Int, _ inputs: [Int], _ run: Int, _ innerStrides: [Int]) -> Void) {
        let total = outputShape.reduce(1, *)
        guard total > 0 else { return }
        guard let last = outputShape.indices.last else {
            body(0, inputShapes.map { _ in 0 }, 1, inputShapes.map { _ in 0 })
            return
        }
        let strides = inputShapes.map { Self.strides(of: $0, in: outputShape) }
        let run = outputShape[last]
        let inner = strides.map { $0[last] }
        var index = [Int](repeating: 0, count: outputShape.count)
        var offsets = [Int](repeating: 0, count: inputShapes.count)
        var output = 0
        while output < total {
            body(output, offsets, run, inner)
            output += run
            // Advance the odometer over the axes before the last.
            var k = last - 1
            while k >= 0 {
                index[k] += 1
                for i in offsets.indices { offsets[i] += strides[i][k] }
                if index[k] < outputShape[k] { break }
                for i in offsets.indices { offsets[i] -= strides[i][k] * outputShape[k] }
                index[k] = 0
                k -= 1
            }
        }
    }

    /// `x` read at `outputShape` (its broadcast copy).
    public static func expand(_ x: Tensor, to outputShape: [Int]) -> Tensor {
        if x.shape == outputShape { return x }
        var out = Tensor(uninitialized: outputShape)
        out.scalars.withUnsafeMutableBufferPointer { o in
            x.scalars.withUnsafeBufferPointer { b in
                let (o, b) = (o.baseAddress!, b.baseAddress!)
                forEachRun(outputShape: outputShape, inputShapes: [x.shape]) { start, offsets, run, inner in
                    // Along a run the input advances by 1 or, broadcast, stays.
                    if inner[0] == 0 {
                        (o + start).update(repeating: b[offsets[0]], count: run)
                    } else {
                        (o + start).update(from: b + offsets[0], count: run)
                    }
                }
            }
        }
        return out
    }

    /// The gradient of a tensor of `shape` broadcast to `gradient.shape`:
    /// `gradient` summed over the broadcast axes.
    public static func reduce(_ gradient: Tensor, to shape: [Int]) -> Tensor {
        if gradient.shape == shape { return gradient }
        var out = Tensor(zeros: shape)
        forEachRun(outputShape: gradient.shape, inputShapes: [shape]) { o, offsets, run, inner in
            for j in 0..<run { out.scalars[offsets[0] + j * inner[0]] += gradient.scalars[o + j] }
        }
        return out
    }
}
