/// Max pooling over NHWC windows; with "same" padding, padded positions
/// never win (as in TensorFlow).
public final class MaxPooling2D: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "MaxPooling2D" }
    public let poolSize: (height: Int, width: Int)
    public let strides: (y: Int, x: Int)
    public let padding: WindowGeometry.Padding

    /// - Parameter strides: defaults to the pool size, as in Keras.
    public init(name: String, poolSize: (Int, Int) = (2, 2), strides: (Int, Int)? = nil,
                padding: WindowGeometry.Padding = .valid) {
        self.name = name
        self.poolSize = poolSize
        self.strides = strides ?? poolSize
        self.padding = padding
    }

    func geometry(for inputShape: [Int]) throws -> WindowGeometry {
        try .pooling(inputShape, poolSize: poolSize, strides: strides, padding: padding)
    }

    /// The geometry of a sample shape `geometry(for:)` accepted (forward
    /// and backward passes: `outputShape(for:)` validated it). No checks.
    func geometry(validated inputShape: [Int]) -> WindowGeometry {
        .validated(inputShape, kernel: poolSize, strides: strides, padding: padding)
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        let g = try geometry(for: inputShape)
        return [g.outHeight, g.outWidth, inputShape[2]]
    }

    public func forward(_ input: Tensor) -> Tensor {
        let g = geometry(validated: input.sampleShape)
        let n = input.batchCount, c = input.shape[3]
        // Every element is set (to -inf, then the window maximum).
        var output = Tensor(uninitialized: [n, g.outHeight, g.outWidth, c])
        if g.kernelHeight == 2 && g.kernelWidth == 2 && g.strideY == 2 && g.strideX == 2 && padding == .valid {
            let parts = n == 1 ? min(IntraOp.threads, IntraOpPool.shared.helpers + 1, g.outHeight) : 1
            if parts > 1 {
                // One image: bands of output rows on the intra-op threads.
                let band = (g.outHeight + parts - 1) / parts
                nonisolated(unsafe) let inputCopy = input
                output.scalars.withUnsafeMutableBufferPointer { y in
                    nonisolated(unsafe) let yp = y
                    IntraOpPool.shared.run(parts: parts) { part in
                        let rows = min(g.outHeight, part * band)..<min(g.outHeight, (part + 1) * band)
                        maxPool2x2(inputCopy, into: yp, geometry: g, outputRows: rows)
                    }
                }
                return output
            }
            output.scalars.withUnsafeMutableBufferPointer { maxPool2x2(input, into: $0, geometry: g) }
            return output
        }
        input.scalars.withUnsafeBufferPointer { x in
            output.scalars.withUnsafeMutableBufferPointer { y in
                var dst = y.baseAddress!
                for b in 0..<n {
                    let image = x.baseAddress! + b * g.inHeight * g.inWidth * c
                    for oy in 0..<g.outHeight {
                        let y0 = oy * g.strideY - g.padTop
                        let yRange = max(0, y0)..<min(g.inHeight, y0 + g.kernelHeight)
                        for ox in 0..<g.outWidth {
                            let x0 = ox * g.strideX - g.padLeft
                            let xRange = max(0, x0)..<min(g.inWidth, x0 + g.kernelWidth)
                            dst.update(repeating: -.infinity, count: c)
                            for iy in yRange {
                                for ix in xRange {
                                    let src = image + (iy * g.inWidth + ix) * c
                                    // A select rather than a branch, so it vectorises; NaN wins as in TensorFlow.
                                    for ch in 0..<c {
                                        let v = src[ch], d = dst[ch]
                                        dst[ch] = (v > d || v != v) ? v : d
                                    }
                                }
                            }
                            dst += c
                        }
                    }
                }
            }
        }
        return output
    }
}

/// The common 2x2, stride-2, valid max pooling: four channel vectors per
/// output pixel (`max2x2`).
/// - Parameter outputRows: only these output rows of a single image.
private func maxPool2x2(_ input: Tensor, into y: UnsafeMutableBufferPointer<Float>, geometry g: WindowGeometry,
                        outputRows: Range<Int>? = nil) {
    let n = input.batchCount, c = input.shape[3]
    precondition(outputRows == nil || n == 1)
    let rows = outputRows ?? 0..<g.outHeight
    input.scalars.withUnsafeBufferPointer { x in
        var dst = y.baseAddress! + rows.lowerBound * g.outWidth * c
        let rowStride = g.inWidth * c
        for b in 0..<n {
            let image = x.baseAddress! + b * g.inHeight * rowStride
            for oy in rows {
                let top = image + 2 * oy * rowStride
                for ox in 0..<g.outWidth {
                    let p0 = top + 2 * ox * c
                    max2x2(p0, p0 + c, p0 + rowStride, p0 + rowStride + c, channels: c, into: dst)
                    dst += c
                }
            }
        }
    }
}

/// One 2x2 window's maximum, channel by channel: the four channel vectors
/// (top-left, top-right, bottom-left, bottom-right) maxed eight channels at a
/// time with SIMD. NaN propagates, as in the general path and TensorFlow.
/// - Parameter rectified: also apply ReLU (max(m, 0), NaN kept) — for a
///   convolution with ReLU fused with the pooling.
@inline(__always)
func max2x2(_ p0: UnsafePointer<Float>, _ p1: UnsafePointer<Float>, _ p2: UnsafePointer<Float>, _ p3: UnsafePointer<Float>,
            channels c: Int, into dst: UnsafeMutablePointer<Float>, rectified: Bool = false) {
    typealias V = SIMD8<Float>
    @inline(__always) func pick(_ v: V, _ d: V) -> V { d.replacing(with: v, where: (v .> d) .| (v .!= v)) }
    @inline(__always) func pick(_ v: Float, _ d: Float) -> Float { (v > d || v != v) ? v : d }
    let vectorEnd = c - c % 8
    var ch = 0
    while ch < vectorEnd {
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p + ch).loadUnaligned(as: V.self) }
        var m = pick(load(p3), pick(load(p2), pick(load(p1), load(p0))))
        // ReLU as Activation.relu computes it: a NaN stays NaN.
        if rectified { m = m.replacing(with: 0, where: m .<= 0) }
        UnsafeMutableRawPointer(dst + ch).storeBytes(of: m, as: V.self)
        ch += 8
    }
    while ch < c {
        let m = pick(p3[ch], pick(p2[ch], pick(p1[ch], p0[ch])))
        dst[ch] = rectified ? Swift.max(m, 0) : m
        ch += 1
    }
}

// MARK: - Training

extension MaxPooling2D: TrainableLayer {
    /// For every output element (NHWC), the flat index into the input of the
    /// element that won its window: the gradient goes there only. Ties go to
    /// the first element in row-major window order, as forward picks it.
    public struct Cache: LayerCache {
        public let winners: [Int32]
        public let inputShape: [Int]
    }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        let g = geometry(validated: input.sampleShape)
        let n = input.batchCount, c = input.shape[3]
        precondition(input.count < Int(Int32.max), "\(name): input too large to index with Int32")
        // Both are written in full below.
        var output = Tensor(uninitialized: [n, g.outHeight, g.outWidth, c])
        var winners = [Int32](unsafeUninitializedCapacity: output.count) { _, count in count = output.count }
        if g.kernelHeight == 2 && g.kernelWidth == 2 && g.strideY == 2 && g.strideX == 2 && padding == .valid {
            maxPool2x2Winners(input, geometry: g, output: &output, winners: &winners)
            return (output, Cache(winners: winners, inputShape: input.shape))
        }
        input.scalars.withUnsafeBufferPointer { x in
            output.scalars.withUnsafeMutableBufferPointer { y in
                winners.withUnsafeMutableBufferPointer { w in
                    var o = 0
                    for b in 0..<n {
                        let imageStart = b * g.inHeight * g.inWidth * c
                        for oy in 0..<g.outHeight {
                            let y0 = oy * g.strideY - g.padTop
                            let yRange = max(0, y0)..<min(g.inHeight, y0 + g.kernelHeight)
                            for ox in 0..<g.outWidth {
                                let x0 = ox * g.strideX - g.padLeft
                                let xRange = max(0, x0)..<min(g.inWidth, x0 + g.kernelWidth)
                                for ch in 0..<c {
                                    var best = -Float.infinity
                                    var at = imageStart + (yRange.lowerBound * g.inWidth + xRange.lowerBound) * c + ch
                                    for iy in yRange {
                                        for ix in xRange {
                                            let i = imageStart + (iy * g.inWidth + ix) * c + ch
                                            if x[i] > best || (x[i].isNaN && !best.isNaN) { best = x[i]; at = i }
                                        }
                                    }
                                    y[o + ch] = best
                                    w[o + ch] = Int32(at)
                                }
                                o += c
                            }
                        }
                    }
                }
            }
        }
        return (output, Cache(winners: winners, inputShape: input.shape))
    }

    /// The 2x2, stride-2, valid case in one contiguous pass per output pixel,
    /// eight channels at a time. Same choices as the general loop: the window
    /// is scanned top-left, top-right, bottom-left, bottom-right; a later
    /// element wins only if strictly greater, and the first NaN wins for good.
    private func maxPool2x2Winners(_ input: Tensor, geometry g: WindowGeometry, output: inout Tensor, winners: inout [Int32]) {
        let n = input.batchCount, c = input.shape[3]
        let rowStride = g.inWidth * c
        let vectorEnd = c - c % 8
        typealias V = SIMD8<Float>
        typealias I = SIMD8<Int32>
        let lanes = I(0, 1, 2, 3, 4, 5, 6, 7)
        let offsets = [0, c, rowStride, rowStride + c]
        input.scalars.withUnsafeBufferPointer { x in
            output.scalars.withUnsafeMutableBufferPointer { y in
                winners.withUnsafeMutableBufferPointer { w in
                    let xs = UnsafeRawPointer(x.baseAddress!)
                    let ys = UnsafeMutableRawPointer(y.baseAddress!)
                    let ws = UnsafeMutableRawPointer(w.baseAddress!)
                    var o = 0
                    for b in 0..<n {
                        let imageStart = b * g.inHeight * rowStride
                        for oy in 0..<g.outHeight {
                            for ox in 0..<g.outWidth {
                                let i0 = imageStart + 2 * oy * rowStride + 2 * ox * c
                                var ch = 0
                                while ch < vectorEnd {
                                    var best = xs.loadUnaligned(fromByteOffset: (i0 + ch) * 4, as: V.self)
                                    var at = I(repeating: Int32(i0 + ch)) &+ lanes
                                    for k in 1..<4 {
                                        let i = i0 + offsets[k] + ch
                                        let v = xs.loadUnaligned(fromByteOffset: i * 4, as: V.self)
                                        let wins = (v .> best) .| ((v .!= v) .& (best .== best))
                                        best.replace(with: v, where: wins)
                                        at.replace(with: I(repeating: Int32(i)) &+ lanes, where: wins)
                                    }
                                    ys.storeBytes(of: best, toByteOffset: (o + ch) * 4, as: V.self)
                                    ws.storeBytes(of: at, toByteOffset: (o + ch) * 4, as: I.self)
                                    ch += 8
                                }
                                while ch < c {
                                    var at = i0 + ch
                                    var best = x[at]
                                    for k in 1..<4 {
                                        let v = x[i0 + offsets[k] + ch]
                                        if v > best || (v.isNaN && !best.isNaN) { best = v; at = i0 + offsets[k] + ch }
                                    }
                                    y[o + ch] = best
                                    w[o + ch] = Int32(at)
                                    ch += 1
                                }
                                o += c
                            }
                        }
                    }
                }
            }
        }
    }

    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let cache = cache as! Cache
        precondition(outputGradient.count == cache.winners.count, "\(name): gradient shape \(outputGradient.shape)")
        var dx = Tensor(zeros: cache.inputShape)
        dx.scalars.withUnsafeMutableBufferPointer { d in
            outputGradient.scalars.withUnsafeBufferPointer { dy in
                cache.winners.withUnsafeBufferPointer { w in
                    for i in 0..<w.count { d[Int(w[i])] += dy[i] }
                }
            }
        }
        return dx
    }
}
