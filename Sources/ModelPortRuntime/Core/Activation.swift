import Foundation

/// An element-wise (or, for softmax, per-row) activation function, named as
/// Keras names it in layer configs (`"activation": "relu"`).
public enum Activation: String, Sendable, CaseIterable {
    case linear, relu, sigmoid, tanh, softmax

    /// Applies the activation in place to `count` values laid out as rows of
    /// `rowLength` (softmax normalises each row, i.e. the last axis).
    public func apply(_ x: UnsafeMutablePointer<Float>, count: Int, rowLength: Int) {
        switch self {
        case .linear:
            return
        case .relu:
            for i in 0..<count where !(x[i] > 0) { x[i] = x[i].isNaN ? x[i] : 0 }
        case .sigmoid:
            for i in 0..<count { x[i] = 1 / (1 + Foundation.exp(-x[i])) }
        case .tanh:
            for i in 0..<count { x[i] = Foundation.tanh(x[i]) }
        case .softmax:
            precondition(rowLength > 0 && count % rowLength == 0)
            var row = x
            for _ in 0..<(count / rowLength) {
                // Subtract the row maximum first, as Keras does, so exp cannot overflow.
                var maximum = -Float.infinity
                for j in 0..<rowLength { maximum = max(maximum, row[j]) }
                var sum: Float = 0
                for j in 0..<rowLength { let e = Foundation.exp(row[j] - maximum); row[j] = e; sum += e }
                let inv = 1 / sum
                for j in 0..<rowLength { row[j] *= inv }
                row += rowLength
            }
        }
    }

    /// Applies the activation to a whole tensor (softmax over the last axis).
    public func apply(to tensor: inout Tensor) {
        guard self != .linear else { return }
        let rowLength = tensor.shape.last ?? 1
        let n = tensor.count
        tensor.scalars.withUnsafeMutableBufferPointer { apply($0.baseAddress!, count: n, rowLength: rowLength) }
    }
}
