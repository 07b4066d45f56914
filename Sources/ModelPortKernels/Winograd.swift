/// A 3x3, stride-1 convolution computed with Winograd's minimal filtering
/// algorithm F(2x2, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional
/// Neural Networks", 2016): each 2x2 block of outputs comes from a 4x4 block
/// of input through 16 products per channel pair instead of 36, 2.25x fewer
/// multiplications. Per image:
///
/// 1. input transform: every 4x4 input tile `d` (tiles overlap by 2) becomes
///    `Bᵀ d B`, 16 values per channel, stored as 16 matrices `[tiles, channels]`;
/// 2. 16 packed products `[tiles, channels] × [channels, filters]` with the
///    transformed kernel `U = G g Gᵀ` (`WinogradKernel`), through the same
///    micro-kernels as every other product;
/// 3. output transform: `Aᵀ m A` gives the 2x2 outputs, then the bias and
///    either ReLU or — `pooled` — a 2x2 max pool and ReLU, one output per
///    tile, since a tile is exactly one pooling window.
///
/// Channels and filters must be multiples of the vector width. The input
/// must hold `2 * tilesY + 2` rows and `2 * tilesX + 2` columns (the caller
/// pads); outputs beyond `outHeight` x `outWidth` are computed but not stored.
public struct WinogradProblem: @unchecked Sendable {
    /// The first image's top-left input pixel (NHWC).
    public var input: UnsafePointer<Float>
    public var images: Int
    /// Floats between images and between input rows.
    public var imageStride: Int
    public var rowStride: Int
    public var channels: Int
    public var filters: Int
    public var tilesY: Int
    public var tilesX: Int
    /// The 16 transformed kernels, packed (`PackedMatrix` layout, `k`
    /// channels, `filters` columns), `weightStride` floats apart.
    public var weights: UnsafePointer<Float>
    public var weightStride: Int
    /// `filters` floats, or nil.
    public var bias: UnsafePointer<Float>?
    /// The first image's first output; floats between output images and rows.
    public var output: UnsafeMutablePointer<Float>
    public var outputImageStride: Int
    public var outputRowStride: Int
    /// Convolution outputs to store (ignored when `pooled`).
    public var outHeight: Int
    public var outWidth: Int
    /// 2x2 max pooling then ReLU: output `(ty, tx)` is tile `(ty, tx)`'s maximum.
    public var pooled: Bool
    public var relu: Bool
    /// `scratchCount` floats.
    public var scratch: UnsafeMutablePointer<Float>

    public init(input: UnsafePointer<Float>, images: Int, imageStride: Int, rowStride: Int, channels: Int, filters: Int,
                tilesY: Int, tilesX: Int, weights: UnsafePointer<Float>, weightStride: Int, bias: UnsafePointer<Float>?,
                output: UnsafeMutablePointer<Float>, outputImageStride: Int, outputRowStride: Int,
                outHeight: Int, outWidth: Int, pooled: Bool, relu: Bool, scratch: UnsafeMutablePointer<Float>) {
        self.input = input; self.images = images; self.imageStride = imageStride; self.rowStride = rowStride
        self.channels = channels; self.filters = filters; self.tilesY = tilesY; self.tilesX = tilesX
        self.weights = weights; self.weightStride = weightStride; self.bias = bias
        self.output = output; self.outputImageStride = outputImageStride; self.outputRowStride = outputRowStride
        self.outHeight = outHeight; self.outWidth = outWidth; self.pooled = pooled; self.relu = relu
        self.scratch = scratch
    }

    /// Scratch floats for `images` images: the transformed input and the 16 products.
    public static func scratchCount(images: Int, tilesY: Int, tilesX: Int, channels: Int, filters: Int) -> Int {
        16 * images * tilesY * tilesX * (channels + filters)
    }
}

/// The kernel side of F(2x2, 3x3): `U = G g Gᵀ` for every (channel, filter)
/// pair of a `(3, 3, channels, filters)` Keras kernel, computed in double
/// precision, as 16 row-major `[channels, filters]` matrices.
public enum WinogradKernel {
    /// `G`: 4x3.
    static let g: [[Double]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]

    /// Writes `16 * channels * filters` floats: position `4i + j` of `U`
    /// for channel `c` and filter `f` at `(4i + j) * channels * filters + c * filters + f`.
    public static func transform(_ kernel: UnsafePointer<Float>, channels: Int, filters: Int,
                                 into destination: UnsafeMutablePointer<Float>) {
        let plane = channels * filters
        for c in 0..<channels {
            for f in 0..<filters {
                // kernel[(ky * 3 + kx) * plane + c * filters + f]
                var t = [[Double]](repeating: [0, 0, 0], count: 4)  // G g
                for i in 0..<4 {
                    for kx in 0..<3 {
                        var s = 0.0
                        for ky in 0..<3 { s += g[i][ky] * Double(kernel[(ky * 3 + kx) * plane + c * filters + f]) }
                        t[i][kx] = s
                    }
                }
                for i in 0..<4 {
                    for j in 0..<4 {
                        var s = 0.0
                        for kx in 0..<3 { s += t[i][kx] * g[j][kx] }
                        destination[(4 * i + j) * plane + c * filters + f] = Float(s)
                    }
                }
            }
        }
    }
}

/// The body of `KernelFamily.winograd`, with vectors `V`.
@inlinable
public func winogradF2x3<V: KernelVector>(_: V.Type, _ p: WinogradProblem) {
    let w = V.scalarCount
    precondition(p.channels % w == 0 && p.filters % w == 0, "Winograd needs channels and filters in whole vectors")
    let perImage = p.tilesY * p.tilesX
    let tiles = p.images * perImage
    guard tiles > 0 else { return }
    let c = p.channels, f = p.filters
    let transformed = p.scratch              // [16][tiles][c]
    let products = p.scratch + 16 * tiles * c  // [16][tiles][f]

    // 1. Bᵀ d B for every tile, w channels at a time.
    var t = 0
    for image in 0..<p.images {
        for ty in 0..<p.tilesY {
            for tx in 0..<p.tilesX {
                let corner = p.input + image * p.imageStride + 2 * ty * p.rowStride + 2 * tx * c
                var ch = 0
                while ch < c {
                    @inline(__always) func d(_ i: Int, _ j: Int) -> V { loadVector(corner + i * p.rowStride + j * c + ch) }
                    @inline(__always) func put(_ i: Int, _ j: Int, _ v: V) {
                        storeVector(v, transformed + ((4 * i + j) * tiles + t) * c + ch)
                    }
                    for j in 0..<4 {
                        // Columns of Bᵀ d, then the rows of (Bᵀ d) B below.
                        let d0 = d(0, j), d1 = d(1, j), d2 = d(2, j), d3 = d(3, j)
                        put(0, j, d0 - d2); put(1, j, d1 + d2); put(2, j, d2 - d1); put(3, j, d1 - d3)
                    }
                    for i in 0..<4 {
                        let base = transformed + ((4 * i) * tiles + t) * c + ch
                        let step = tiles * c
                        let e0: V = loadVector(base), e1: V = loadVector(base + step)
                        let e2: V = loadVector(base + 2 * step), e3: V = loadVector(base + 3 * step)
                        storeVector(e0 - e2, base); storeVector(e1 + e2, base + step)
                        storeVector(e2 - e1, base + 2 * step); storeVector(e1 - e3, base + 3 * step)
                    }
                    ch += w
                }
                t += 1
            }
        }
    }

    // 2. Sixteen [tiles, c] x [c, f] products.
    withUnsafeTemporaryAllocation(of: Segment.self, capacity: 1) { segment in
        segment[0] = Segment(offset: 0, length: c)
        let segments = UnsafeBufferPointer(segment)
        for position in 0..<16 {
            let a = ImplicitMatrix(rows: transformed + position * tiles * c, count: tiles, stride: c, segments: segments)
            let b = PackedMatrix(panels: p.weights + position * p.weightStride, bias: nil, k: c, columns: f,
                                 panelWidth: 2 * w)
            panelProduct(V.self, a, rows: 0..<tiles, by: b,
                         into: OutputRows(base: products + position * tiles * f, rowStride: f, columns: f), relu: false)
        }
    }

    // 3. Aᵀ m A, bias, then ReLU or pool + ReLU.
    t = 0
    for image in 0..<p.images {
        let out = p.output + image * p.outputImageStride
        for ty in 0..<p.tilesY {
            for tx in 0..<p.tilesX {
                var ch = 0
                while ch < f {
                    @inline(__always) func m(_ i: Int, _ j: Int) -> V { loadVector(products + ((4 * i + j) * tiles + t) * f + ch) }
                    // s = Aᵀ m (2 rows), then y = s A.
                    let a0 = m(0, 0) + m(1, 0) + m(2, 0), b0 = m(1, 0) - m(2, 0) - m(3, 0)
                    let a1 = m(0, 1) + m(1, 1) + m(2, 1), b1 = m(1, 1) - m(2, 1) - m(3, 1)
                    let a2 = m(0, 2) + m(1, 2) + m(2, 2), b2 = m(1, 2) - m(2, 2) - m(3, 2)
                    let a3 = m(0, 3) + m(1, 3) + m(2, 3), b3 = m(1, 3) - m(2, 3) - m(3, 3)
                    var y00 = a0 + a1 + a2, y01 = a1 - a2 - a3
                    var y10 = b0 + b1 + b2, y11 = b1 - b2 - b3
                    if let bias = p.bias {
                        let v: V = loadVector(bias + ch)
                        y00 += v; y01 += v; y10 += v; y11 += v
                    }
                    if p.pooled {
                        // In MaxPooling2D's order: the first maximum, a NaN wins.
                        var y = V.pick(y11, over: V.pick(y10, over: V.pick(y01, over: y00)))
                        if p.relu { y = V.rectified(y) }
                        storeVector(y, out + ty * p.outputRowStride + tx * f + ch)
                    } else {
                        if p.relu { y00 = V.rectified(y00); y01 = V.rectified(y01); y10 = V.rectified(y10); y11 = V.rectified(y11) }
                        let oy = 2 * ty, ox = 2 * tx
                        let row0 = out + oy * p.outputRowStride + ox * f + ch
                        storeVector(y00, row0)
                        if ox + 1 < p.outWidth { storeVector(y01, row0 + f) }
                        if oy + 1 < p.outHeight {
                            storeVector(y10, row0 + p.outputRowStride)
                            if ox + 1 < p.outWidth { storeVector(y11, row0 + p.outputRowStride + f) }
                        }
                    }
                    ch += w
                }
                t += 1
            }
        }
    }
}
