/// `y = activation(a · w + bias)` for a row-major `[rows, k]` matrix `a`
/// (leading dimension `lda`; with `transposedA`, `a` is stored `[k, rows]`)
/// and `[k, columns]` weights: the dense and convolution forward passes.
///
/// The bias rows are written first and sgemm adds the product onto them
/// (beta 1). With beta 0 OpenBLAS would zero the output, then a second pass
/// would add the bias: this saves a pass over the output, which matters for
/// wide feature maps (a first convolution's output is ~30 floats per input
/// pixel). The activation then runs in place.
func affine(rows: Int, columns: Int, k: Int, a: UnsafePointer<Float>, lda: Int, transposedA: Bool = false,
            weights: UnsafePointer<Float>, bias: Parameter?, activation: Activation,
            into y: UnsafeMutablePointer<Float>) {
    guard rows > 0 else { return }
    if let bias {
        bias.value.scalars.withUnsafeBufferPointer { fillRows(y, rows: rows, with: $0) }
    }
    sgemm(transA: transposedA, transB: false, m: rows, n: columns, k: k, a: a, lda: lda,
          b: weights, ldb: columns, c: y, ldc: columns, beta: bias == nil ? 0 : 1)
    if activation != .linear {
        activation.apply(y, count: rows * columns, rowLength: columns)
    }
}

/// Writes `row` into each of the `rows` rows of `y`: once, then by doubling
/// the filled part with block copies (a few large copies, not one per row).
func fillRows(_ y: UnsafeMutablePointer<Float>, rows: Int, with row: UnsafeBufferPointer<Float>) {
    let width = row.count
    guard rows > 0, width > 0 else { return }
    y.update(from: row.baseAddress!, count: width)
    var filled = 1
    while filled < rows {
        let copy = Swift.min(filled, rows - filled)
        (y + filled * width).update(from: y, count: copy * width)
        filled += copy
    }
}
