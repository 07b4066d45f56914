/// Copies a row-major array of `shape` from `source` into `destination` with
/// its axes reordered: output axis `k` is input axis `perm[k]` (numpy's
/// `transpose(perm)`). Used by `Permute` and by the ONNX weight layouts.
/// - Precondition: `perm` is a permutation of the axes; both buffers hold
///   `shape`'s element count.
public func permuteAxes(_ source: UnsafeBufferPointer<Float>, shape: [Int], perm: [Int],
                        into destination: UnsafeMutableBufferPointer<Float>) {
    let rank = shape.count
    let count = shape.reduce(1, *)
    precondition(perm.count == rank && source.count >= count && destination.count >= count)
    guard count > 0 else { return }
    var inStrides = [Int](repeating: 1, count: rank)
    for i in stride(from: rank - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * shape[i + 1] }
    let outShape = perm.map { shape[$0] }
    // Stride in the input for each output axis.
    let strides = perm.map { inStrides[$0] }
    var index = [Int](repeating: 0, count: rank)
    for o in 0..<count {
        var src = 0
        for k in 0..<rank { src += index[k] * strides[k] }
        destination[o] = source[src]
        // Advance the output multi-index (row-major).
        var k = rank - 1
        while k >= 0 {
            index[k] += 1
            if index[k] < outShape[k] { break }
            index[k] = 0
            k -= 1
        }
    }
}

/// `values` (row-major, of `shape`) with its axes reordered: output axis `k` is input axis `perm[k]`.
public func permuteAxes(_ values: [Float], shape: [Int], perm: [Int]) -> [Float] {
    precondition(values.count == shape.reduce(1, *))
    var out = [Float](repeating: 0, count: values.count)
    values.withUnsafeBufferPointer { src in out.withUnsafeMutableBufferPointer { permuteAxes(src, shape: shape, perm: perm, into: $0) } }
    return out
}
