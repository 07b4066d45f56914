/// Element-wise merges of equally shaped inputs (`Add`, `Subtract`,
/// `Multiply`, `Average`, `Maximum`, `Minimum`) and `Concatenate` along an
/// axis. Shapes exclude the batch axis.
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
            guard shapes.allSatisfy({ $0 == shapes[0] }) else {
                throw RuntimeError("inputs must have equal shapes, got \(shapes)")
            }
            return shapes[0]
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
        var out = shapes[0]
        out[a] = shapes.reduce(0) { $0 + $1[a] }
        return out
    }

    func concatenationAxis(rank: Int) -> Int { axis < 0 ? rank + axis : axis }

    public func forward(inputs: [Tensor]) -> Tensor {
        precondition(inputs.count >= 2)
        if operation == .concatenate { return concatenate(inputs) }
        var output = inputs[0]
        for x in inputs.dropFirst() {
            for i in 0..<output.count {
                let b = x.scalars[i]
                switch operation {
                case .add, .average: output.scalars[i] += b
                case .subtract: output.scalars[i] -= b
                case .multiply: output.scalars[i] *= b
                case .maximum: output.scalars[i] = max(output.scalars[i], b)
                case .minimum: output.scalars[i] = min(output.scalars[i], b)
                case .concatenate: break
                }
            }
        }
        if operation == .average {
            let n = Float(inputs.count)
            for i in 0..<output.count { output.scalars[i] /= n }
        }
        return output
    }

    private func concatenate(_ inputs: [Tensor]) -> Tensor {
        let n = inputs[0].batchCount
        let shapes = inputs.map(\.sampleShape)
        let out = try! outputShape(forInputs: shapes)
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
