/// `c = act(a · b + bias [+ c])` for rows `rows` of an implicit matrix and a
/// packed one, with vectors `V`: the body of `KernelFamily.multiply`.
///
/// Rows go in blocks of up to 96: the block's row pointers are found once,
/// then each panel of `b` (k × 2 vectors, 18 KB for a 3x3x32 kernel on AVX2)
/// sweeps the whole block while it stays in L1, six rows at a time; the
/// block's last one or two rows go through the one-row kernel, two panels at
/// a time.
@inlinable
public func panelProduct<V: KernelVector>(_: V.Type, _ a: ImplicitMatrix, rows: Range<Int>, by b: PackedMatrix,
                                  into c: OutputRows, relu: Bool) {
    let w = V.scalarCount
    precondition(b.panelWidth == 2 * w, "weights packed for another kernel family")
    guard !rows.isEmpty, c.columns > 0 else { return }
    let blockRows = 96
    let panelStride = b.panelStride
    let panels = b.panelCount
    withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: blockRows) { buffer in
        let pointers = buffer.baseAddress!
        var start = rows.lowerBound
        while start < rows.upperBound {
            let count = min(blockRows, rows.upperBound - start)
            a.rowPointers(start..<(start + count), into: pointers)
            let out = c.base + (start - rows.lowerBound) * c.rowStride
            // Rows for the six-row kernel: all but a last one or two.
            let remainder = count % 6 < 3 ? count % 6 : 0
            let tiled = count - remainder
            for p in 0..<panels {
                let panel = b.panels + p * panelStride
                let columns = min(b.panelWidth, c.columns - p * b.panelWidth)
                var i = 0
                while i < tiled {
                    tile6(V.self, pointers + i, rows: min(6, tiled - i), step: a.elementStride, segments: a.segments,
                          panel: panel, panelRow: b.rowStride,
                          bias: b.bias.map { $0 + p * b.panelWidth }, relu: relu, accumulate: c.accumulate,
                          c: out + i * c.rowStride + p * b.panelWidth,
                          ldc: c.rowStride, columns: columns)
                    i += 6
                }
            }
            for i in tiled..<count {
                var p = 0
                while p < panels {
                    let pair = p + 1 < panels
                    tile1(V.self, pointers[i], step: a.elementStride, segments: a.segments, first: b.panels + p * panelStride,
                          second: pair ? b.panels + (p + 1) * panelStride : nil, panelRow: b.rowStride, bias: b.bias.map { $0 + p * b.panelWidth },
                          relu: relu, accumulate: c.accumulate, c: out + i * c.rowStride + p * b.panelWidth,
                          columns: c.columns - p * b.panelWidth)
                    p += pair ? 2 : 1
                }
            }
            start += count
        }
    }
}
