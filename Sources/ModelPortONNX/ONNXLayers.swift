import Foundation
import ModelPortRuntime

/// Runtime layers for ONNX operators that have no Keras layer: element-wise
/// arithmetic with a constant tensor, a few unary functions, and division of
/// two tensors. The importer uses them only when no Keras-equivalent layer
/// fits; the Keras writers reject them by name (`ONNX:Div`, ...).
///
/// Layout: they work element by element on whatever layout the importer
/// stores the value in; a constant is pre-arranged to that layout.

/// `x op c` (or `c op x`) with a constant already broadcast to the sample shape.
public final class ONNXConstantOp: Layer, @unchecked Sendable {
    public enum Operation: String, Sendable { case add = "Add", sub = "Sub", mul = "Mul", div = "Div", pow = "Pow", min = "Min", max = "Max" }
    public let name: String
    public let operation: Operation
    /// True for `c op x` (matters for Sub, Div and Pow).
    public let constantFirst: Bool
    /// One sample's worth of constant values, in the stored layout.
    public let constant: Tensor
    public var typeName: String { "ONNX:" + operation.rawValue }

    public init(name: String, operation: Operation, constant: Tensor, constantFirst: Bool = false) {
        self.name = name
        self.operation = operation
        self.constant = constant
        self.constantFirst = constantFirst
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape == constant.shape else {
            throw RuntimeError("constant of shape \(constant.shape) does not match input \(inputShape)")
        }
        return inputShape
    }

    public func forward(_ input: Tensor) -> Tensor {
        var output = input
        let per = constant.count
        for i in 0..<output.count {
            let (a, b) = constantFirst ? (constant.scalars[i % per], input.scalars[i]) : (input.scalars[i], constant.scalars[i % per])
            switch operation {
            case .add: output.scalars[i] = a + b
            case .sub: output.scalars[i] = a - b
            case .mul: output.scalars[i] = a * b
            case .div: output.scalars[i] = a / b
            case .pow: output.scalars[i] = Foundation.pow(a, b)
            case .min: output.scalars[i] = Swift.min(a, b)
            case .max: output.scalars[i] = Swift.max(a, b)
            }
        }
        return output
    }
}

/// An element-wise function without a Keras activation name.
public final class ONNXUnaryOp: Layer, @unchecked Sendable {
    public enum Operation: String, Sendable, CaseIterable {
        case erf = "Erf", sqrt = "Sqrt", reciprocal = "Reciprocal", neg = "Neg", abs = "Abs", log = "Log"
        case floor = "Floor", ceil = "Ceil"
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
            case .sqrt: output.scalars[i] = x.squareRoot()
            case .reciprocal: output.scalars[i] = 1 / x
            case .neg: output.scalars[i] = -x
            case .abs: output.scalars[i] = Swift.abs(x)
            case .log: output.scalars[i] = Foundation.log(x)
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
