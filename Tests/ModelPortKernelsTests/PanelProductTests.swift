import ModelPortKernels
import Testing

/// `panelProduct` against a double-precision product of the same operands,
/// at two vector widths: every row count the tiling distinguishes (six-row
/// tiles, three to five rows in a padded tile, one or two rows through the
/// one-row kernel, blocks of 96), column counts with partial and odd panels,
/// several segments per row, bias or none, ReLU or not.
struct PanelProductTests {
    struct Case: Sendable, CustomStringConvertible {
        var rows: Int, columns: Int, segments: [Int]
        var description: String { "\(rows) rows x \(columns) columns, segments \(segments)" }
    }

    static let cases: [Case] = [
        Case(rows: 1, columns: 1, segments: [1]),
        Case(rows: 2, columns: 64, segments: [9]),
        Case(rows: 3, columns: 10, segments: [576]),
        Case(rows: 5, columns: 17, segments: [3, 3, 3]),
        Case(rows: 6, columns: 16, segments: [32]),
        Case(rows: 7, columns: 33, segments: [2, 5]),
        Case(rows: 8, columns: 40, segments: [96, 96, 96]),
        Case(rows: 13, columns: 9, segments: [4]),
        Case(rows: 97, columns: 70, segments: [7, 1]),
        Case(rows: 200, columns: 32, segments: [12, 12, 12]),
    ]

    /// Rows of `a` are `rowLength` floats apart; row r's segment s starts at
    /// `s * segmentGap` (so segments are not adjacent and rows overlap, as
    /// in a convolution).
    static func layout(_ t: Case) -> (segments: [Segment], rowLength: Int, k: Int) {
        let gap = (t.segments.max() ?? 1) + 3
        let segments = t.segments.enumerated().map { Segment(offset: $0.offset * gap, length: $0.element) }
        return (segments, gap * t.segments.count / 2 + 1, t.segments.reduce(0, +))
    }

    static func run<V: KernelVector>(_: V.Type, _ t: Case, bias: Bool, relu: Bool, rows: Range<Int>? = nil) -> (got: [Float], want: [Double], stride: Int) {
        let (segments, rowLength, k) = layout(t)
        let span = (segments.last!.offset + segments.last!.length) + (t.rows - 1) * rowLength
        let a = randomFloats(span, seed: 1)
        let w = randomFloats(k * t.columns, seed: 2)
        let b = bias ? randomFloats(t.columns, seed: 3) : nil
        let rows = rows ?? 0..<t.rows
        let stride = t.columns + 3  // output rows wider than the product: the gap must stay untouched
        var out = [Float](repeating: 12345, count: (rows.count + 1) * stride)
        let packed = Packed(w, k: k, columns: t.columns, bias: b, panelWidth: 2 * V.scalarCount)
        segments.withUnsafeBufferPointer { seg in
            a.withUnsafeBufferPointer { ap in
                out.withUnsafeMutableBufferPointer { op in
                    packed.with { pm in
                        let m = ImplicitMatrix(rows: ap.baseAddress!, count: t.rows, stride: rowLength, segments: seg)
                        panelProduct(V.self, m, rows: rows, by: pm,
                                     into: OutputRows(base: op.baseAddress!, rowStride: stride, columns: t.columns), relu: relu)
                    }
                }
            }
        }
        var want = [Double]()
        for r in rows {
            for j in 0..<t.columns {
                var s = 0.0, kk = 0
                for segment in segments {
                    for i in 0..<segment.length {
                        s += Double(a[r * rowLength + segment.offset + i]) * Double(w[kk * t.columns + j])
                        kk += 1
                    }
                }
                s += Double(b?[j] ?? 0)
                want.append(relu ? max(s, 0) : s)
            }
        }
        return (out, want, stride)
    }

    static func check<V: KernelVector>(_ v: V.Type, _ t: Case) {
        for (bias, relu) in [(true, false), (false, true), (true, true)] {
            let (got, want, stride) = run(v, t, bias: bias, relu: relu)
            var worst = 0.0, untouched = true
            for r in 0..<t.rows {
                for j in 0..<stride {
                    let value = got[r * stride + j]
                    if j < t.columns {
                        worst = max(worst, abs(Double(value) - want[r * t.columns + j]))
                    } else if value != 12345 {
                        untouched = false
                    }
                }
            }
            #expect(worst <= 1e-5 * Double(t.segments.reduce(0, +)).squareRoot(), "\(t) bias \(bias) relu \(relu): \(worst)")
            #expect(untouched, "\(t): wrote outside the columns")
            #expect(got[t.rows * stride..<(t.rows + 1) * stride].allSatisfy { $0 == 12345 }, "\(t): wrote past the last row")
        }
    }

    @Test(arguments: cases) func fourLanes(_ t: Case) { Self.check(SIMD4<Float>.self, t) }
    @Test(arguments: cases) func sixteenLanes(_ t: Case) { Self.check(Lanes16.self, t) }

    /// BLAS-style use: the rows of Aᵀ read as A's columns (element stride =
    /// A's leading dimension), B read unpacked (whole panels, rows further
    /// apart than its width), and the product added to what C held (beta 1).
    static func transposedUnpackedAccumulated<V: KernelVector>(_: V.Type) {
        let w = V.scalarCount
        for (m, k, n) in [(1, 5, 2 * w), (7, 13, 4 * w), (20, 3, 2 * w), (100, 40, 6 * w)] {
            let lda = m + 2, ldb = n + 3, ldc = n + 1
            let a = randomFloats(k * lda, seed: 21), b = randomFloats(k * ldb, seed: 22)
            let before = randomFloats(m * ldc, seed: 23)
            var c = before
            [Segment(offset: 0, length: k)].withUnsafeBufferPointer { seg in
                a.withUnsafeBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        c.withUnsafeMutableBufferPointer { cp in
                            panelProduct(V.self, ImplicitMatrix(rows: ap.baseAddress!, count: m, stride: 1, segments: seg, elementStride: lda),
                                         rows: 0..<m, by: .unpacked(bp.baseAddress!, k: k, columns: n, rowStride: ldb, panelWidth: 2 * w),
                                         into: OutputRows(base: cp.baseAddress!, rowStride: ldc, columns: n, accumulate: true), relu: false)
                        }
                    }
                }
            }
            var worst = 0.0
            for i in 0..<m {
                for j in 0..<n {
                    var s = Double(before[i * ldc + j])
                    for kk in 0..<k { s += Double(a[kk * lda + i]) * Double(b[kk * ldb + j]) }
                    worst = max(worst, abs(s - Double(c[i * ldc + j])))
                }
                #expect(c[i * ldc + n] == before[i * ldc + n], "\(m)x\(k)x\(n): wrote past the columns")
            }
            #expect(worst <= 1e-5, "\(V.self) \(m)x\(k)x\(n): \(worst)")
        }
    }

    @Test func transposedUnpackedAccumulatedFourLanes() { Self.transposedUnpackedAccumulated(SIMD4<Float>.self) }
    @Test func transposedUnpackedAccumulatedSixteenLanes() { Self.transposedUnpackedAccumulated(Lanes16.self) }

    /// A row's result is bit-for-bit the same whichever kernel computed it
    /// (six-row tile or one-row kernel) and whatever rows came with it.
    @Test func rowResultsDoNotDependOnTheirNeighbours() {
        let t = Case(rows: 14, columns: 40, segments: [30, 30])
        let (all, _, stride) = Self.run(Lanes16.self, t, bias: true, relu: false)
        for r in [0, 5, 12, 13] {
            let (one, _, _) = Self.run(Lanes16.self, t, bias: true, relu: false, rows: r..<(r + 1))
            #expect(Array(one[0..<t.columns]) == Array(all[(r * stride)..<(r * stride + t.columns)]), "row \(r)")
        }
    }

    /// ReLU as Activation.relu: negatives become +0, NaN stays NaN.
    @Test func reluKeepsNaN() {
        let k = 4, columns = 9
        var a = randomFloats(3 * k, seed: 5)
        a[k + 2] = .nan  // row 1 is all NaN
        let w = randomFloats(k * columns, seed: 6)
        var out = [Float](repeating: 0, count: 3 * columns)
        let packed = Packed(w, k: k, columns: columns, bias: nil, panelWidth: 8)
        [Segment(offset: 0, length: k)].withUnsafeBufferPointer { seg in
            a.withUnsafeBufferPointer { ap in
                out.withUnsafeMutableBufferPointer { op in
                    packed.with { pm in
                        panelProduct(SIMD4<Float>.self, ImplicitMatrix(rows: ap.baseAddress!, count: 3, stride: k, segments: seg),
                                     rows: 0..<3, by: pm, into: OutputRows(base: op.baseAddress!, rowStride: columns, columns: columns),
                                     relu: true)
                    }
                }
            }
        }
        #expect(out[columns..<(2 * columns)].allSatisfy { $0.isNaN })
        let others = Array(out[0..<columns]) + Array(out[(2 * columns)...])
        #expect(others.allSatisfy { $0 >= 0 && $0.sign == .plus })
        #expect(others.contains(0) && others.contains { $0 > 0 })
    }

    /// Rows are numbered image by image, window row by window row.
    @Test func implicitRowsWalkImagesRowsAndColumns() {
        let base = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        defer { base.deallocate() }
        [Segment(offset: 0, length: 1)].withUnsafeBufferPointer { seg in
            let m = ImplicitMatrix(base: base, height: 2, width: 3, imageStride: 1000, rowStride: 100, columnStride: 10, segments: seg)
            let pointers = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: 8)
            defer { pointers.deallocate() }
            m.rowPointers(4..<12, into: pointers)
            let offsets = (0..<8).map { UnsafePointer(base).distance(to: pointers[$0]) }
            #expect(offsets == [110, 120, 1000, 1010, 1020, 1100, 1110, 1120])
        }
    }

    /// Panels hold `panelWidth` columns of every row in turn, zero-padded.
    @Test func packingLayout() {
        let k = 2, columns = 5
        let matrix = (0..<(k * columns)).map(Float.init)  // row r, column c = 5r + c
        let packed = Packed(matrix, k: k, columns: columns, bias: [1, 2, 3, 4, 5], panelWidth: 4)
        #expect(packed.panels == [0, 1, 2, 3, 5, 6, 7, 8, 4, 0, 0, 0, 9, 0, 0, 0])
        #expect(packed.bias == [1, 2, 3, 4, 5, 0, 0, 0])
    }
}
