/// Element-wise merges (`Add`, `Subtract`, `Multiply`, `Average`, `Maximum`,
/// `Minimum`) of inputs of equal rank whose shapes are equal or broadcast
/// along axes of size 1, as Keras's merge layers do (the squeeze-and-excitation
/// `Multiply` of [H, W, C] by [1, 1, C]); and `Concatenate` along an axis.
/// Shapes exclude the batch axis.
public final class Merge: MergeLayer, @unchecked Sendable {
    public enum Operation: String, Sendable, CaseIterable {
        case add = "Add", subtract = "Subtract", multiply = "Multiply"
        case average = "Average", maximum = "Maximum", minimum = "Minimum"
        case concatenate = "Concatenate"
    }

    public let name: String
    public let operation: Operation
    /// For `concatenate`: the sample axis, 0-based (the batch axis excluded).
    public let axis: Int
    public var typeName: String { operation.rawValue }

    public init(name: String, operation: Operation, axis: Int = -1) {
        self.name = name
        self.operation = operation
        self.axis = axis
    }

    public func outputShape(forInputs shapes: [[Int]]) throws -> [Int] {
        guard shapes.count >= 2 else { throw RuntimeError("needs at least 2 inputs, got \(shapes.count)") }
        if operation == .subtract && shapes.count != 2 {
            throw RuntimeError("Subtract needs exactly 2 inputs, got \(shapes.count)")
        }
        if operation != .concatenate {
            return try Broadcasting.shape(shapes)
        }
        let rank = shapes[0].count
        let a = concatenationAxis(rank: rank)
        guard a >= 0, a < rank, shapes.allSatisfy({ $0.count == rank }) else {
            throw RuntimeError("cannot concatenate \(shapes) on axis \(axis)")
        }
        for s in shapes {
            for k in 0..<rank where k != a && s[k] != shapes[0][k] {
                throw RuntimeError("cannot concatenate \(shapes) on axis \(a + 1): other axes differ")
            }
        }
        return concatenatedShape(validated: shapes)
    }

    /// Concatenate's output shape for input shapes `outputShape(forInputs:)`
    /// accepted (forward passes). No checks.
    func concatenatedShape(validated shapes: [[Int]]) -> [Int] {
        let a = concatenationAxis(rank: shapes[0].count)
        var out = shapes[0]
        out[a] = shapes.reduce(0) { $0 + $1[a] }
        return out
    }

    func concatenationAxis(rank: Int) -> Int { axis < 0 ? rank + axis : axis }

    public func forward(inputs: [Tensor]) -> Tensor {
        precondition(inputs.count >= 2)
        if operation == .concatenate { return concatenate(inputs) }
        let shape = elementwiseShape(inputs)
        var output = Broadcasting.expand(inputs[0], to: shape)
        output.scalars.withUnsafeMutableBufferPointer { out in
            for y in inputs.dropFirst() {
                y.scalars.withUnsafeBufferPointer { b in
                    if y.shape == shape {
                        combine(out.baseAddress!, b.baseAddress!, count: out.count, step: 1)
                    } else {
                        // One call per innermost run; along it `y` advances by 1 or stays (broadcast).
                        Broadcasting.forEachRun(outputShape: shape, inputShapes: [y.shape]) { o, offsets, run, inner in
                            combine(out.baseAddress! + o, b.baseAddress! + offsets[0], count: run, step: inner[0])
                        }
                    }
                }
            }
            if operation == .average {
                let n = Float(inputs.count)
                for i in out.indices { out[i] /= n }
            }
        }
        return output
    }

    /// `out[i] = out[i] (op) b[i * step]` for `i` in `0..<count` (`step` 0 or 1):
    /// one loop per operation, so each vectorises.
    @inline(__always)
    private func combine(_ out: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, count: Int, step: Int) {
        if step == 0 {
            let c = b.pointee
            switch operation {
            case .add, .average: for i in 0..<count { out[i] += c }
            case .subtract: for i in 0..<count { out[i] -= c }
            case .multiply: for i in 0..<count { out[i] *= c }
            case .maximum: for i in 0..<count { out[i] = max(out[i], c) }
            case .minimum: for i in 0..<count { out[i] = min(out[i], c) }
            case .concatenate: preconditionFailure("not element-wise")
            }
            return
        }
        precondition(step == 1)
        switch operation {
        case .add, .average: for i in 0..<count { out[i] += b[i] }
        case .subtract: for i in 0..<count { out[i] -= b[i] }
        case .multiply: for i in 0..<count { out[i] *= b[i] }
        case .maximum: for i in 0..<count { out[i] = max(out[i], b[i]) }
        case .minimum: for i in 0..<count { out[i] = min(out[i], b[i]) }
        case .concatenate: preconditionFailure("not element-wise")
        }
    }

    /// The full output shape (batch first) of an element-wise merge.
    private func elementwiseShape(_ inputs: [Tensor]) -> [Int] {
        let first = inputs[0].shape
        if inputs.allSatisfy({ $0.shape == first }) { return first }
        // Validated by outputShape(forInputs:) when the graph was built.
        var out = first
        for x in inputs.dropFirst() {
            for k in out.indices where out[k] == 1 { out[k] = x.shape[k] }
        }
        return out
    }

    private func concatenate(_ inputs: [Tensor]) -> Tensor {
        let n = inputs[0].batchCount
        let shapes = inputs.map(\.sampleShape)
        let out = concatenatedShape(validated: shapes)
        let a = concatenationAxis(rank: out.count)
        // Each input contributes contiguous blocks of (its axis size x inner) per outer index.
        let inner = out[(a + 1)...].reduce(1, *)
        let outer = n * out[..<a].reduce(1, *)
        var scalars: [Float] = []
        scalars.reserveCapacity(n * out.reduce(1, *))
        for o in 0..<outer {
            for (x, s) in zip(inputs, shapes) {
                let block = s[a] * inner
                scalars.append(contentsOf: x.scalars[(o * block)..<((o + 1) * block)])
            }
        }
        return Tensor(shape: [n] + out, scalars: scalars)
    }
}

// MARK: - Training

extension Merge: TrainableMergeLayer {
    /// The inputs (Multiply needs the others' values; Maximum/Minimum which
    /// input won) and their sample shapes (Concatenate splits the gradient).
    public struct Cache: LayerCache {
        public let inputs: [Tensor]
        public let batch: Int
    }

    public func forward(inputs: [Tensor], context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        // Only Multiply, Maximum and Minimum need the values; the others
        // need the count and the shapes (an empty batch of the sample shape).
        let keep = operation == .multiply || operation == .maximum || operation == .minimum
        let kept = keep ? inputs : inputs.map { Tensor(zeros: [0] + $0.sampleShape) }
        return (forward(inputs: inputs), Cache(inputs: kept, batch: inputs[0].batchCount))
    }

    /// Each input's gradient: `full[k]` (at the output's shape) summed over
    /// the axes input `k` was broadcast along.
    private func reduced(_ full: [Tensor], to inputs: [Tensor], batch: Int) -> [Tensor] {
        zip(full, inputs).map { g, x in Broadcasting.reduce(g, to: [batch] + x.sampleShape) }
    }

    /// Add: dY to each input; Subtract: dY, -dY; Average: dY / n; Multiply:
    /// dY times the product of the other inputs; Maximum/Minimum: dY to the
    /// input that won each element (ties to the earlier input, as TensorFlow's
    /// pairwise maximum/minimum gradients do); Concatenate: dY split back.
    public func backward(inputsGradient dy: Tensor, cache: any LayerCache, gradients: Gradients) -> [Tensor] {
        let kept = (cache as! Cache).inputs
        let batch = (cache as! Cache).batch
        let n = kept.count
        precondition(dy.batchCount == batch, "\(name): gradient shape \(dy.shape)")
        // Multiply, Maximum and Minimum read the inputs at the output's shape.
        let inputs = kept.map { $0.batchCount == batch ? Broadcasting.expand($0, to: dy.shape) : $0 }
        switch operation {
        case .add:
            return reduced(Array(repeating: dy, count: n), to: kept, batch: batch)
        case .subtract:
            var negative = dy
            for i in 0..<negative.count { negative.scalars[i] = -negative.scalars[i] }
            return reduced([dy, negative], to: kept, batch: batch)
        case .average:
            var share = dy
            for i in 0..<share.count { share.scalars[i] /= Float(n) }
            return reduced(Array(repeating: share, count: n), to: kept, batch: batch)
        case .multiply:
            return reduced((0..<n).map { k in
                var g = dy
                for (j, x) in inputs.enumerated() where j != k {
                    for i in 0..<g.count { g.scalars[i] *= x.scalars[i] }
                }
                return g
            }, to: kept, batch: batch)
        case .maximum, .minimum:
            var grads = inputs.map { Tensor(zeros: $0.shape) }
            for i in 0..<dy.count {
                var winner = 0
                var best = inputs[0].scalars[i]
                for j in 1..<n {
                    let v = inputs[j].scalars[i]
                    if operation == .maximum ? v > best : v < best { best = v; winner = j }
                }
                grads[winner].scalars[i] = dy.scalars[i]
            }
            return reduced(grads, to: kept, batch: batch)
        case .concatenate:
            let shapes = inputs.map(\.sampleShape)
            let out = dy.sampleShape
            let a = concatenationAxis(rank: out.count)
            let inner = out[(a + 1)...].reduce(1, *)
            let outer = batch * out[..<a].reduce(1, *)
            var parts = shapes.map { [Float](repeating: 0, count: batch * $0.reduce(1, *)) }
            var src = 0
            for o in 0..<outer {
                for (k, s) in shapes.enumerated() {
                    let block = s[a] * inner
                    parts[k].replaceSubrange((o * block)..<((o + 1) * block), with: dy.scalars[src..<(src + block)])
                    src += block
                }
            }
            return zip(parts, shapes).map { Tensor(shape: [batch] + $1, scalars: $0) }
        }
    }
}
