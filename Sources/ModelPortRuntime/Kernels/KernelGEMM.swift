import ModelPortKernels

/// `sgemm` on one of ModelPort's kernel families: `C = op(A) · op(B)`
/// (`accumulate`: `+ C`, BLAS's beta = 1).
///
/// Nothing is copied that can be read in place: the rows of Aᵀ are A's
/// columns (`ImplicitMatrix.elementStride` = lda), and op(B) is read as it
/// lies when its column count is a whole number of panels. Otherwise it is
/// packed for the call; Bᵀ is first transposed in cache-sized blocks.
///
/// Training's products — the forward pass, dW += Xᵀ·dZ, dX = dZ·Wᵀ, at the
/// small shapes cache-sized pieces give — run here rather than in OpenBLAS
/// when a family is selected: OpenBLAS 0.3.21's AVX2 kernels reach about
/// half their large-matrix speed on such shapes (docs/PERFORMANCE.md).
func kernelSGEMM(_ family: any KernelFamily.Type, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                 a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                 c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    let width = family.panelWidth
    // op(B) as a row-major [k, n] matrix: B itself, or Bᵀ transposed in cache-sized blocks.
    var right = b, rightStride = ldb
    let transposed: UnsafeMutablePointer<Float>? = transB ? .allocate(capacity: k * n) : nil
    defer { transposed?.deallocate() }
    if let transposed {
        transpose(b, rows: n, columns: k, stride: ldb, into: transposed)
        right = UnsafePointer(transposed)
        rightStride = n
    }
    // Read in place when the columns are whole panels, else packed (zero-padded).
    let packed: UnsafeMutablePointer<Float>? =
        n % width == 0 ? nil : .allocate(capacity: PackedMatrix.packedCount(k: k, columns: n, panelWidth: width))
    defer { packed?.deallocate() }
    let panels: PackedMatrix
    if let packed {
        PackedMatrix.pack(right, k: k, columns: n, rowStride: rightStride, panelWidth: width, into: packed)
        panels = PackedMatrix(panels: packed, bias: nil, k: k, columns: n, panelWidth: width)
    } else {
        panels = .unpacked(right, k: k, columns: n, rowStride: rightStride, panelWidth: width)
    }
    withUnsafeTemporaryAllocation(of: Segment.self, capacity: 1) { segment in
        segment[0] = Segment(offset: 0, length: k)
        // Row i of op(A): A's row i (elements adjacent), or its column i (elements lda apart).
        let left = ImplicitMatrix(rows: a, count: m, stride: transA ? 1 : lda, segments: UnsafeBufferPointer(segment),
                                  elementStride: transA ? lda : 1)
        family.multiply(left, rows: 0..<m, by: panels,
                        into: OutputRows(base: c, rowStride: ldc, columns: n, accumulate: accumulate), relu: false)
    }
}

/// Writes the transpose of a row-major `[rows, columns]` matrix (rows
/// `stride` apart) as a dense `[columns, rows]` one, in 32x32 blocks so
/// both sides stay in cache.
func transpose(_ source: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int, into destination: UnsafeMutablePointer<Float>) {
    let block = 32
    var r0 = 0
    while r0 < rows {
        let r1 = min(rows, r0 + block)
        var c0 = 0
        while c0 < columns {
            let c1 = min(columns, c0 + block)
            for r in r0..<r1 {
                let row = source + r * stride
                for c in c0..<c1 { destination[c * rows + r] = row[c] }
            }
            c0 = c1
        }
        r0 = r1
    }
}
