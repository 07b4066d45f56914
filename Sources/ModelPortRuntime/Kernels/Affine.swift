/// `y = activation(a · w + bias)` for a row-major `[rows, k]` matrix `a`
/// (leading dimension `lda`; with `transposedA`, `a` is stored `[k, rows]`)
/// and `[k, columns]` weights: the dense and convolution forward passes.
///
/// The bias rows are written first and sgemm adds the product onto them
/// (beta 1). With beta 0 OpenBLAS would zero the output, then a second pass
/// would add the bias: this saves a pass over the output, which matters for
/// wide feature maps (a first convolution's output is ~30 floats per input
/// pixel). The activation then runs in place.
///
/// - Parameter unpackedBlocks: multiply in blocks of `BLAS.unpackedRowBlock`
///   rows, which OpenBLAS's AVX-512 kernels multiply without packing `a`
///   first (for an unfolded im2col matrix, read once rather than copied).
func affine(rows: Int, columns: Int, k: Int, a: UnsafePointer<Float>, lda: Int, transposedA: Bool = false,
            weights: UnsafePointer<Float>, bias: Parameter?, activation: Activation,
            into y: UnsafeMutablePointer<Float>, unpackedBlocks: Bool = false) {
    guard rows > 0 else { return }
    if unpackedBlocks, let block = BLAS.unpackedRowBlock, rows > block {
        var start = 0
        while start < rows {
            let count = Swift.min(block, rows - start)
            // Row `start` of a, or its column when a is stored transposed.
            affine(rows: count, columns: columns, k: k, a: a + (transposedA ? start : start * lda), lda: lda,
                   transposedA: transposedA, weights: weights, bias: bias, activation: activation, into: y + start * columns)
            start += count
        }
        return
    }
    if let bias {
        bias.value.scalars.withUnsafeBufferPointer { fillRows(y, rows: rows, with: $0) }
    }
    sgemm(transA: transposedA, transB: false, m: rows, n: columns, k: k, a: a, lda: lda,
          b: weights, ldb: columns, c: y, ldc: columns, beta: bias == nil ? 0 : 1)
    if activation != .linear {
        activation.apply(y, count: rows * columns, rowLength: columns)
    }
}

/// dX = dZ · wᵀ: the gradient of `affine`'s `[rows, k]` input from dZ
/// `[rows, columns]`, written in full, shaped `inputShape`.
func affineInputGradient(_ dz: Tensor, weights: Parameter, inputShape: [Int], rows: Int, k: Int, columns: Int) -> Tensor {
    var dx = Tensor(uninitialized: inputShape)
    dz.scalars.withUnsafeBufferPointer { dzp in
        weights.value.scalars.withUnsafeBufferPointer { w in
            dx.scalars.withUnsafeMutableBufferPointer { dxp in
                sgemm(transA: false, transB: true, m: rows, n: k, k: columns,
                      a: dzp.baseAddress!, lda: columns, b: w.baseAddress!, ldb: columns, c: dxp.baseAddress!, ldc: k)
            }
        }
    }
    return dx
}

/// `affine`'s parameter gradients: dW += aᵀ·dZ (a as `affine` read it) and
/// dBias += the column sums of dZ `[rows, columns]`.
func accumulateAffineGradients(_ dz: Tensor, rows: Int, columns: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                               transposedA: Bool = false, weights: Parameter, bias: Parameter?, into gradients: Gradients) {
    dz.scalars.withUnsafeBufferPointer { dzp in
        gradients.accumulate(weights) { dw in
            // a is [rows, k] (or [k, rows] transposed): dW [k, columns] = aᵀ · dZ.
            sgemm(transA: !transposedA, transB: false, m: k, n: columns, k: rows, a: a, lda: lda,
                  b: dzp.baseAddress!, ldb: columns, c: dw.baseAddress!, ldc: columns, beta: 1)
        }
        if let bias {
            gradients.accumulate(bias) { db in addColumnSums(dzp.baseAddress!, rows: rows, columns: columns, into: db.baseAddress!) }
        }
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

/// Adds the column sums of a `[rows, columns]` matrix into `sums` (a bias gradient).
func addColumnSums(_ m: UnsafePointer<Float>, rows: Int, columns: Int, into sums: UnsafeMutablePointer<Float>) {
    var row = m
    for _ in 0..<rows {
        for j in 0..<columns { sums[j] += row[j] }
        row += columns
    }
}

/// Adds a per-column bias to a `[rows, columns]` matrix, then applies the
/// activation across each row (for outputs not produced by `affine`:
/// transposed and separable convolutions).
func addBiasAndActivate(_ y: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
                        bias: Parameter?, activation: Activation) {
    guard let bias else {
        activation.apply(y, count: rows * columns, rowLength: columns)
        return
    }
    bias.value.scalars.withUnsafeBufferPointer { b in
        let b = b.baseAddress!
        var row = y
        // Bias and ReLU in one pass over the output (the common CNN case).
        if activation == .relu {
            for _ in 0..<rows {
                for j in 0..<columns { row[j] = Swift.max(row[j] + b[j], 0) }
                row += columns
            }
            return
        }
        for _ in 0..<rows {
            for j in 0..<columns { row[j] += b[j] }
            row += columns
        }
        activation.apply(y, count: rows * columns, rowLength: columns)
    }
}
