/// The right operand of a matrix product (a layer's kernel, `[k, columns]`)
/// packed once for a kernel family: column panels of `panelWidth` columns,
/// each stored as `k` consecutive rows of `panelWidth` floats, the last
/// panel padded with zero columns. The micro-kernel then reads a panel as
/// one sequential stream, two vectors per step of `k`.
///
/// `bias`, if any, has `panels * panelWidth` floats (zeros in the padding).
public struct PackedMatrix: @unchecked Sendable {
    public var panels: UnsafePointer<Float>
    public var bias: UnsafePointer<Float>?
    public var k: Int
    public var columns: Int
    public var panelWidth: Int

    public init(panels: UnsafePointer<Float>, bias: UnsafePointer<Float>?, k: Int, columns: Int, panelWidth: Int) {
        self.panels = panels
        self.bias = bias
        self.k = k
        self.columns = columns
        self.panelWidth = panelWidth
    }

    public var panelCount: Int { PackedMatrix.panelCount(columns: columns, panelWidth: panelWidth) }

    public static func panelCount(columns: Int, panelWidth: Int) -> Int { (columns + panelWidth - 1) / panelWidth }

    /// Floats `pack` writes for a `[k, columns]` matrix.
    public static func packedCount(k: Int, columns: Int, panelWidth: Int) -> Int {
        panelCount(columns: columns, panelWidth: panelWidth) * panelWidth * k
    }

    /// Packs the row-major `[k, columns]` matrix `matrix` into `destination`
    /// (`packedCount` floats).
    public static func pack(_ matrix: UnsafePointer<Float>, k: Int, columns: Int, panelWidth: Int,
                            into destination: UnsafeMutablePointer<Float>) {
        let panels = panelCount(columns: columns, panelWidth: panelWidth)
        var out = destination
        for p in 0..<panels {
            let first = p * panelWidth
            let width = min(panelWidth, columns - first)
            for row in 0..<k {
                out.update(from: matrix + row * columns + first, count: width)
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
