// The register-blocked inner loops: every FLOP of a packed product runs here.
//
// A tile is a block of output rows by one packed panel (two vectors of
// columns). Its accumulators stay in registers for the whole shared
// dimension; per step of k the kernel loads the panel's two vectors once
// and, for each row, broadcasts one input element and does two fused
// multiply-adds. Six rows take 12 accumulators + 2 panel vectors + 1
// broadcast = 15 of AVX2's 16 vector registers.
//
// Every output element is summed in the same order, k from first to last,
// then the bias added (as TensorFlow adds BiasAdd after the convolution),
// whichever kernel computed it: a sample's result does not depend on the
// batch it came in.

@inlinable @inline(__always)
func loadVector<V: KernelVector>(_ p: UnsafePointer<Float>, as _: V.Type = V.self) -> V {
    UnsafeRawPointer(p).loadUnaligned(as: V.self)
}

@inlinable @inline(__always)
func storeVector<V: KernelVector>(_ v: V, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
}

/// Writes two vectors of one output row (`columns` of the `2 * V.scalarCount`
/// are real; the rest is panel padding): the sum, plus the bias, plus what
/// the row held when accumulating, then ReLU.
@inlinable @inline(__always)
func storeRow<V: KernelVector>(_ v0: V, _ v1: V, bias: UnsafePointer<Float>?, relu: Bool, accumulate: Bool,
                               to c: UnsafeMutablePointer<Float>, columns: Int) {
    let w = V.scalarCount
    var y0 = v0, y1 = v1
    if let bias { y0 += loadVector(bias, as: V.self); y1 += loadVector(bias + w, as: V.self) }
    if columns >= 2 * w {
        if accumulate { y0 += loadVector(c, as: V.self); y1 += loadVector(c + w, as: V.self) }
        if relu { y0 = V.rectified(y0); y1 = V.rectified(y1) }
        storeVector(y0, c)
        storeVector(y1, c + w)
    } else {
        if relu && !accumulate { y0 = V.rectified(y0); y1 = V.rectified(y1) }
        for j in 0..<columns {
            var y = j < w ? y0[j] : y1[j - w]
            if accumulate {
                y += c[j]
                if relu { y = y > 0 ? y : (y.isNaN ? y : 0) }
            }
            c[j] = y
        }
    }
}

/// Rows `a[0..<rows]` (3 to 6 of them) by one panel. Missing rows repeat
/// row 0 and are not stored. A row's elements are `step` floats apart, the
/// panel's rows `panelRow` floats apart.
@inlinable @inline(__always)
func tile6<V: KernelVector>(_: V.Type, _ a: UnsafePointer<UnsafePointer<Float>>, rows: Int, step: Int,
                    segments: UnsafeBufferPointer<Segment>, panel: UnsafePointer<Float>, panelRow: Int,
                    bias: UnsafePointer<Float>?, relu: Bool, accumulate: Bool,
                    c: UnsafeMutablePointer<Float>, ldc: Int, columns: Int) {
    let w = V.scalarCount
    let r0 = a[0]
    let r1 = rows > 1 ? a[1] : r0, r2 = rows > 2 ? a[2] : r0
    let r3 = rows > 3 ? a[3] : r0, r4 = rows > 4 ? a[4] : r0, r5 = rows > 5 ? a[5] : r0
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    var b = panel
    for segment in segments {
        let p0 = r0 + segment.offset, p1 = r1 + segment.offset, p2 = r2 + segment.offset
        let p3 = r3 + segment.offset, p4 = r4 + segment.offset, p5 = r5 + segment.offset
        var k = 0
        for _ in 0..<segment.length {
            let b0: V = loadVector(b), b1: V = loadVector(b + w)
            var x = V(repeating: p0[k]); c00.addProduct(x, b0); c01.addProduct(x, b1)
            x = V(repeating: p1[k]); c10.addProduct(x, b0); c11.addProduct(x, b1)
            x = V(repeating: p2[k]); c20.addProduct(x, b0); c21.addProduct(x, b1)
            x = V(repeating: p3[k]); c30.addProduct(x, b0); c31.addProduct(x, b1)
            x = V(repeating: p4[k]); c40.addProduct(x, b0); c41.addProduct(x, b1)
            x = V(repeating: p5[k]); c50.addProduct(x, b0); c51.addProduct(x, b1)
            b += panelRow
            k += step
        }
    }
    storeRow(c00, c01, bias: bias, relu: relu, accumulate: accumulate, to: c, columns: columns)
    if rows > 1 { storeRow(c10, c11, bias: bias, relu: relu, accumulate: accumulate, to: c + ldc, columns: columns) }
    if rows > 2 { storeRow(c20, c21, bias: bias, relu: relu, accumulate: accumulate, to: c + 2 * ldc, columns: columns) }
    if rows > 3 { storeRow(c30, c31, bias: bias, relu: relu, accumulate: accumulate, to: c + 3 * ldc, columns: columns) }
    if rows > 4 { storeRow(c40, c41, bias: bias, relu: relu, accumulate: accumulate, to: c + 4 * ldc, columns: columns) }
    if rows > 5 { storeRow(c50, c51, bias: bias, relu: relu, accumulate: accumulate, to: c + 5 * ldc, columns: columns) }
}

/// One row by two panels at once (four independent accumulators, so the
/// multiply-adds do not wait on each other), or by one when `second` is nil:
/// for the last one or two rows of a product and single-row products (a
/// dense layer on one sample).
@inlinable @inline(__always)
func tile1<V: KernelVector>(_: V.Type, _ row: UnsafePointer<Float>, step: Int, segments: UnsafeBufferPointer<Segment>,
                    first: UnsafePointer<Float>, second: UnsafePointer<Float>?, panelRow: Int, bias: UnsafePointer<Float>?,
                    relu: Bool, accumulate: Bool, c: UnsafeMutablePointer<Float>, columns: Int) {
    let w = V.scalarCount
    var c0 = V(), c1 = V(), c2 = V(), c3 = V()
    var b = first
    if let second {
        var d = second
        for segment in segments {
            let p = row + segment.offset
            var k = 0
            for _ in 0..<segment.length {
                let x = V(repeating: p[k])
                c0.addProduct(x, loadVector(b)); c1.addProduct(x, loadVector(b + w))
                c2.addProduct(x, loadVector(d)); c3.addProduct(x, loadVector(d + w))
                b += panelRow
                d += panelRow
                k += step
            }
        }
        storeRow(c0, c1, bias: bias, relu: relu, accumulate: accumulate, to: c, columns: min(columns, 2 * w))
        storeRow(c2, c3, bias: bias.map { $0 + 2 * w }, relu: relu, accumulate: accumulate, to: c + 2 * w,
                 columns: columns - 2 * w)
    } else {
        for segment in segments {
            let p = row + segment.offset
            var k = 0
            for _ in 0..<segment.length {
                let x = V(repeating: p[k])
                c0.addProduct(x, loadVector(b)); c1.addProduct(x, loadVector(b + w))
                b += panelRow
                k += step
            }
        }
        storeRow(c0, c1, bias: bias, relu: relu, accumulate: accumulate, to: c, columns: columns)
    }
}
