import Foundation
import ModelPortRuntime

/// Runtime layers for ONNX operators that have no Keras layer: a few unary
/// functions, and division of two tensors (arithmetic with a constant is the
/// runtime's `ConstantArithmetic`, which Keras writes as an op layer). The
/// importer uses them only when no Keras-equivalent layer fits; the Keras
/// writers reject them by name (`ONNX:Div`, ...).
///
/// Layout: they work element by element on whatever layout the importer
/// stores the value in.

/// An element-wise function Keras has no layer or operation for (`Sqrt`,
/// `Reciprocal`, `Neg`, `Abs` and `Log` import as the runtime's `UnaryMath`).
public final class ONNXUnaryOp: Layer, @unchecked Sendable {
    public enum Operation: String, Sendable, CaseIterable {
        case erf = "Erf", floor = "Floor", ceil = "Ceil"
    }
    public let name: String
    public let operation: Operation
    public var typeName: String { "ONNX:" + operation.rawValue }

    public init(name: String, operation: Operation) {
        self.name = name
        self.operation = operation
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }

    public func forward(_ input: Tensor) -> Tensor {
        var output = input
        for i in 0..<output.count {
            let x = output.scalars[i]
            switch operation {
            case .erf: output.scalars[i] = Foundation.erf(x)
            case .floor: output.scalars[i] = x.rounded(.down)
            case .ceil: output.scalars[i] = x.rounded(.up)
            }
        }
        return output
    }
}

/// Arithmetic between two tensors: of the same shape, or with the second
/// of size 1 on the last axis, broadcast along it (`x - mean(x)`).
/// Add/Sub/Mul of equal shapes import as Keras merges instead.
public final class ONNXBinaryOp: MergeLayer, @unchecked Sendable {
    public enum Operation: String, Sendable { case add = "Add", sub = "Sub", mul = "Mul", div = "Div", pow = "Pow" }
    public let name: String
    public let operation: Operation
    public var typeName: String { "ONNX:" + operation.rawValue }

    public init(name: String, operation: Operation) {
        self.name = name
        self.operation = operation
    }

    public func outputShape(forInputs shapes: [[Int]]) throws -> [Int] {
        guard shapes.count == 2, shapes[0] == shapes[1] || (shapes[1] == shapes[0].dropLast() + [1] && !shapes[0].isEmpty) else {
            throw RuntimeError("\(operation.rawValue) needs two inputs of the same shape (or the second of size 1 on the last axis), got \(shapes)")
        }
        return shapes[0]
    }

    public func forward(inputs: [Tensor]) -> Tensor {
        var output = inputs[0]
        let b = inputs[1]
        let row = output.shape.last ?? 1
        let broadcast = b.count != output.count
        for i in 0..<output.count {
            let a = output.scalars[i], y = b.scalars[broadcast ? i / row : i]
            switch operation {
            case .add: output.scalars[i] = a + y
            case .sub: output.scalars[i] = a - y
            case .mul: output.scalars[i] = a * y
            case .div: output.scalars[i] = a / y
            case .pow: output.scalars[i] = Foundation.pow(a, y)
            }
        }
        return output
    }
}

/// ONNX `ReduceMean`, `ReduceSum` or `ReduceMax` over the last axis, keeping it
/// (the importer moves and merges the reduced axes there first).
public final class ONNXReduce: Layer, @unchecked Sendable {
    public enum Operation: String, Sendable { case mean = "ReduceMean", sum = "ReduceSum", max = "ReduceMax" }
    public let name: String
    public let operation: Operation
    public var typeName: String { "ONNX:" + operation.rawValue }

    public init(name: String, operation: Operation = .mean) {
        self.name = name
        self.operation = operation
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard !inputShape.isEmpty else { throw RuntimeError("\(operation.rawValue) needs an axis to reduce") }
        return inputShape.dropLast() + [1]
    }

    public func forward(_ input: Tensor) -> Tensor {
        let row = input.shape.last!
        let rows = input.count / row
        var out = [Float](repeating: 0, count: rows)
        for r in 0..<rows {
            var acc: Float = operation == .max ? -.infinity : 0
            for k in 0..<row {
                let v = input.scalars[r * row + k]
                acc = operation == .max ? (v.isNaN || acc.isNaN ? .nan : Swift.max(acc, v)) : acc + v
            }
            out[r] = operation == .mean ? acc / Float(row) : acc
        }
        return Tensor(shape: input.shape.dropLast() + [1], scalars: out)
    }
}
