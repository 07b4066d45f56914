import ModelPortKernels
import Testing

/// Winograd F(2x2, 3x3) against the convolution's definition in double
/// precision, at two vector widths: odd and even output sizes (tiles that
/// hang over the edge), several images, bias or none, and the pooled form
/// (2x2 max pool + ReLU per tile), including where a NaN goes.
struct WinogradTests {
    struct Case: Sendable, CustomStringConvertible {
        var height: Int, width: Int, images: Int, lanesOfChannels: Int, lanesOfFilters: Int, bias: Bool
        var description: String { "\(images)x\(height)x\(width), \(lanesOfChannels)/\(lanesOfFilters) vectors, bias \(bias)" }
    }

    static let cases: [Case] = [
        Case(height: 13, width: 13, images: 2, lanesOfChannels: 2, lanesOfFilters: 4, bias: true),
        Case(height: 8, width: 9, images: 1, lanesOfChannels: 1, lanesOfFilters: 1, bias: false),
        Case(height: 6, width: 6, images: 3, lanesOfChannels: 3, lanesOfFilters: 2, bias: true),
        Case(height: 7, width: 5, images: 2, lanesOfChannels: 2, lanesOfFilters: 3, bias: true),
    ]

    /// Runs the kernel on `x` (`images` NHWC images, copied into an input
    /// with room for every tile) and returns its output and the definition's.
    static func run<V: KernelVector>(_: V.Type, _ t: Case, pooled: Bool, nanAt: Int? = nil) -> (got: [Float], want: [Double]) {
        let w = V.scalarCount
        let c = t.lanesOfChannels * w, f = t.lanesOfFilters * w
        let outH = t.height - 2, outW = t.width - 2
        let tilesY = pooled ? outH / 2 : (outH + 1) / 2, tilesX = pooled ? outW / 2 : (outW + 1) / 2
        var x = randomFloats(t.images * t.height * t.width * c, seed: 11)
        if let nanAt { x[nanAt] = .nan }
        let kernel = randomFloats(9 * c * f, seed: 12)
        let bias = t.bias ? randomFloats(f, seed: 13) : nil
        // The input with room for every tile (zeros beyond the image).
        let rows = max(t.height, 2 * tilesY + 2), cols = max(t.width, 2 * tilesX + 2)
        var padded = [Float](repeating: 0, count: t.images * rows * cols * c)
        for i in 0..<t.images {
            for y in 0..<t.height {
                for xx in 0..<t.width {
                    for ch in 0..<c { padded[((i * rows + y) * cols + xx) * c + ch] = x[((i * t.height + y) * t.width + xx) * c + ch] }
                }
            }
        }
        var transformed = [Float](repeating: 0, count: 16 * c * f)
        transformed.withUnsafeMutableBufferPointer { WinogradKernel.transform(kernel, channels: c, filters: f, into: $0.baseAddress!) }
        let stride = PackedMatrix.packedCount(k: c, columns: f, panelWidth: 2 * w)
        var packed = [Float](repeating: 0, count: 16 * stride)
        packed.withUnsafeMutableBufferPointer { p in
            for m in 0..<16 {
                transformed.withUnsafeBufferPointer {
                    PackedMatrix.pack($0.baseAddress! + m * c * f, k: c, columns: f, panelWidth: 2 * w, into: p.baseAddress! + m * stride)
                }
            }
        }
        let oh = pooled ? tilesY : outH, ow = pooled ? tilesX : outW
        var out = [Float](repeating: 12345, count: t.images * oh * ow * f)
        var scratch = [Float](repeating: 0, count: WinogradProblem.scratchCount(images: t.images, tilesY: tilesY, tilesX: tilesX,
                                                                                 channels: c, filters: f))
        padded.withUnsafeBufferPointer { xp in
            packed.withUnsafeBufferPointer { wp in
                out.withUnsafeMutableBufferPointer { op in
                    scratch.withUnsafeMutableBufferPointer { sp in
                        func go(_ b: UnsafePointer<Float>?) {
                            winogradF2x3(V.self, WinogradProblem(
                                input: xp.baseAddress!, images: t.images, imageStride: rows * cols * c, rowStride: cols * c,
                                channels: c, filters: f, tilesY: tilesY, tilesX: tilesX, weights: wp.baseAddress!, weightStride: stride,
                                bias: b, output: op.baseAddress!, outputImageStride: oh * ow * f, outputRowStride: ow * f,
                                outHeight: outH, outWidth: outW, pooled: pooled, relu: pooled, scratch: sp.baseAddress!))
                        }
                        if let bias { bias.withUnsafeBufferPointer { go($0.baseAddress!) } } else { go(nil) }
                    }
                }
            }
        }
        // The definition: convolution (then 2x2 max pool, in MaxPooling2D's NaN order, and ReLU).
        func conv(_ i: Int, _ y: Int, _ xx: Int, _ o: Int) -> Double {
            var s = Double(bias?[o] ?? 0)
            for ky in 0..<3 {
                for kx in 0..<3 {
                    for ch in 0..<c {
                        let input: Int = ((i * t.height + y + ky) * t.width + xx + kx) * c + ch
                        let weight: Int = ((ky * 3 + kx) * c + ch) * f + o
                        s += Double(x[input]) * Double(kernel[weight])
                    }
                }
            }
            return s
        }
        var want = [Double]()
        for i in 0..<t.images {
            for y in 0..<oh {
                for xx in 0..<ow {
                    for o in 0..<f {
                        if pooled {
                            var m = conv(i, 2 * y, 2 * xx, o)
                            for v in [conv(i, 2 * y, 2 * xx + 1, o), conv(i, 2 * y + 1, 2 * xx, o), conv(i, 2 * y + 1, 2 * xx + 1, o)]
                            where v > m || v.isNaN { m = v }
                            want.append(m.isNaN ? m : max(m, 0))
                        } else {
                            want.append(conv(i, y, xx, o))
                        }
                    }
                }
            }
        }
        return (out, want)
    }

    static func check<V: KernelVector>(_ v: V.Type, _ t: Case) {
        for pooled in [false, true] {
            let (got, want) = run(v, t, pooled: pooled)
            #expect(got.count == want.count)
            let worst = zip(got, want).map { abs(Double($0) - $1) }.max() ?? .infinity
            #expect(worst <= 2e-5, "\(t), pooled \(pooled): worst error \(worst)")
        }
    }

    @Test(arguments: cases) func fourLanes(_ t: Case) { Self.check(SIMD4<Float>.self, t) }
    @Test(arguments: cases) func sixteenLanes(_ t: Case) { Self.check(Lanes16.self, t) }

    /// A NaN input pixel makes NaN exactly the pooled outputs whose windows
    /// read it, as the layers one after the other do.
    @Test func nanReachesThePooledOutputsThatSeeIt() {
        let t = Case(height: 10, width: 10, images: 2, lanesOfChannels: 2, lanesOfFilters: 2, bias: true)
        let (got, want) = Self.run(SIMD4<Float>.self, t, pooled: true, nanAt: (100 + 4 * 10 + 5) * 8 + 3)
        #expect(got.map(\.isNaN) == want.map(\.isNaN))
        #expect(got.contains { $0.isNaN } && got.contains { !$0.isNaN })
        #expect(zip(got, want).allSatisfy { $0.isNaN || abs(Double($0) - $1) <= 2e-5 })
    }
}
