/// The right operand of a matrix product (a layer's kernel, `[k, columns]`)
/// packed once for a kernel family: column panels of `panelWidth` columns,
/// each stored as `k` consecutive rows of `panelWidth` floats, the last
/// panel padded with zero columns. The micro-kernel then reads a panel as
/// one sequential stream, two vectors per step of `k`.
///
/// `bias`, if any, has `panels * panelWidth` floats (zeros in the padding).
///
/// A row-major matrix whose column count is a whole number of panels can
/// also be read as it is, without packing (`unpacked`): its panels are then
/// `panelWidth` floats apart and their rows the matrix's leading dimension.
public struct PackedMatrix: @unchecked Sendable {
    public var panels: UnsafePointer<Float>
    public var bias: UnsafePointer<Float>?
    public var k: Int
    public var columns: Int
    public var panelWidth: Int
    /// Floats between the starts of consecutive panels, and between
    /// consecutive rows within a panel.
    public var panelStride: Int
    public var rowStride: Int

    public init(panels: UnsafePointer<Float>, bias: UnsafePointer<Float>?, k: Int, columns: Int, panelWidth: Int) {
        self.panels = panels
        self.bias = bias
        self.k = k
        self.columns = columns
        self.panelWidth = panelWidth
        panelStride = k * panelWidth
        rowStride = panelWidth
    }

    /// A row-major `[k, columns]` matrix (rows `rowStride` apart) read in
    /// place. - Precondition: `columns` is a multiple of `panelWidth`.
    public static func unpacked(_ matrix: UnsafePointer<Float>, k: Int, columns: Int, rowStride: Int,
                                panelWidth: Int) -> PackedMatrix {
        precondition(columns % panelWidth == 0, "an unpacked matrix needs whole panels")
        var m = PackedMatrix(panels: matrix, bias: nil, k: k, columns: columns, panelWidth: panelWidth)
        m.panelStride = panelWidth
        m.rowStride = rowStride
        return m
    }

    public var panelCount: Int { PackedMatrix.panelCount(columns: columns, panelWidth: panelWidth) }

    public static func panelCount(columns: Int, panelWidth: Int) -> Int { (columns + panelWidth - 1) / panelWidth }

    /// Floats `pack` writes for a `[k, columns]` matrix.
    public static func packedCount(k: Int, columns: Int, panelWidth: Int) -> Int {
        panelCount(columns: columns, panelWidth: panelWidth) * panelWidth * k
    }

    /// Packs the `[k, columns]` matrix `matrix` into `destination`
    /// (`packedCount` floats). Row-major with rows `rowStride` floats apart
    /// (default `columns`); `transposed`: stored as its transpose,
    /// `[columns, k]` with rows `rowStride` apart (BLAS's transB).
    public static func pack(_ matrix: UnsafePointer<Float>, k: Int, columns: Int, rowStride: Int? = nil,
                            transposed: Bool = false, panelWidth: Int, into destination: UnsafeMutablePointer<Float>) {
        let panels = panelCount(columns: columns, panelWidth: panelWidth)
        let ld = rowStride ?? (transposed ? k : columns)
        var out = destination
        for p in 0..<panels {
            let first = p * panelWidth
            let width = min(panelWidth, columns - first)
            for row in 0..<k {
                if transposed {
                    for j in 0..<width { out[j] = matrix[(first + j) * ld + row] }
                } else {
                    out.update(from: matrix + row * ld + first, count: width)
                }
                if width < panelWidth { (out + width).update(repeating: 0, count: panelWidth - width) }
                out += panelWidth
            }
        }
    }

    /// Copies a bias of `columns` floats into `destination`
    /// (`panelCount * panelWidth` floats), zero-padded.
    public static func packBias(_ bias: UnsafePointer<Float>, columns: Int, panelWidth: Int,
                                into destination: UnsafeMutablePointer<Float>) {
        destination.update(repeating: 0, count: panelCount(columns: columns, panelWidth: panelWidth) * panelWidth)
        destination.update(from: bias, count: columns)
    }
}
