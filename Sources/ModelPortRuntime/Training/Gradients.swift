/// Gradient accumulators for a fixed list of parameters, one float buffer
/// per parameter in the parameter's shape.
///
/// Backward passes *add* into these buffers; `zero()` is the explicit reset.
/// Training keeps one `Gradients` per thread chunk and sums them in a fixed
/// order, so results do not depend on timing. Parameters not in the list
/// (frozen or non-trainable) are skipped by `accumulate`.
public final class Gradients: @unchecked Sendable {
    public let parameters: [Parameter]
    private let slots: [ObjectIdentifier: Int]
    private var buffers: [[Float]]

    public init(parameters: [Parameter]) {
        self.parameters = parameters
        var slots: [ObjectIdentifier: Int] = [:]
        for (i, p) in parameters.enumerated() { slots[ObjectIdentifier(p)] = i }
        self.slots = slots
        buffers = parameters.map { [Float](repeating: 0, count: $0.value.count) }
    }

    /// Sets every buffer to zero.
    public func zero() {
        for i in buffers.indices {
            buffers[i].withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        }
    }

    /// Whether gradients for `parameter` are collected here.
    public func contains(_ parameter: Parameter) -> Bool { slots[ObjectIdentifier(parameter)] != nil }

    /// Runs `body` with `parameter`'s buffer to add into; does nothing when
    /// the parameter is not collected.
    @inline(__always)
    public func accumulate(_ parameter: Parameter, _ body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        guard let i = slots[ObjectIdentifier(parameter)] else { return }
        buffers[i].withUnsafeMutableBufferPointer { body($0) }
    }

    /// Adds `other`'s buffers into these, element by element.
    /// - Precondition: both collect the same parameters in the same order.
    public func add(_ other: Gradients) {
        precondition(other.parameters.count == parameters.count)
        for i in buffers.indices {
            other.buffers[i].withUnsafeBufferPointer { src in
                buffers[i].withUnsafeMutableBufferPointer { dst in
                    for j in 0..<dst.count { dst[j] += src[j] }
                }
            }
        }
    }

    /// The gradient of parameter `index`, read-only.
    public func withBuffer<R>(at index: Int, _ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try buffers[index].withUnsafeBufferPointer(body)
    }

    /// Mutable access for gradient clipping.
    public func withMutableBuffer<R>(at index: Int, _ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try buffers[index].withUnsafeMutableBufferPointer { try body($0) }
    }

    /// The gradient of `parameter` as a tensor of its shape, or nil.
    public subscript(parameter: Parameter) -> Tensor? {
        guard let i = slots[ObjectIdentifier(parameter)] else { return nil }
        return Tensor(shape: parameter.shape, scalars: buffers[i])
    }
}
