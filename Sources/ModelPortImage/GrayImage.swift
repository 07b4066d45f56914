/// A grayscale image with values in [0, 1] (0 black, 1 white), row-major.
public struct GrayImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var pixels: [Float]

    /// - Precondition: `pixels.count == width * height`.
    public init(width: Int, height: Int, pixels: [Float]) {
        precondition(pixels.count == width * height, "\(pixels.count) pixels do not fill \(width)x\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    public subscript(x: Int, y: Int) -> Float {
        get { pixels[y * width + x] }
        set { pixels[y * width + x] = newValue }
    }

    /// Luminance of decoded pixels (ITU-R BT.601 weights, as PIL's "L" mode).
    ///
    /// Transparency: a digit drawn on a transparent background is composited
    /// over a background that contrasts with its visible ink — white under
    /// dark ink, black under light ink — so the digit never vanishes into
    /// the background it happens to be shown on.
    public init(_ image: PixelImage) {
        let n = image.width * image.height
        let c = image.channels
        let b = image.bytes
        var luminance = [Float](repeating: 0, count: n)
        var alpha = [Float](repeating: 1, count: n)
        for p in 0..<n {
            switch c {
            case 1, 2:
                luminance[p] = Float(b[p * c]) / 255
            default:
                luminance[p] = (0.299 * Float(b[p * c]) + 0.587 * Float(b[p * c + 1]) + 0.114 * Float(b[p * c + 2])) / 255
            }
            if image.hasAlpha { alpha[p] = Float(b[p * c + c - 1]) / 255 }
        }
        if image.hasAlpha {
            var inkSum: Float = 0, weight: Float = 0
            for p in 0..<n { inkSum += alpha[p] * luminance[p]; weight += alpha[p] }
            let background: Float = weight > 0 && inkSum / weight < 0.5 ? 1 : 0
            for p in 0..<n { luminance[p] = alpha[p] * luminance[p] + (1 - alpha[p]) * background }
        }
        self.init(width: image.width, height: image.height, pixels: luminance)
    }

    /// 8-bit gray pixels (values clamped to [0, 1], rounded).
    public var pixelImage: PixelImage {
        PixelImage(width: width, height: height, channels: 1,
                   bytes: pixels.map { UInt8((max(0, min(1, $0)) * 255).rounded()) })
    }

    /// `1 - v` everywhere.
    public var inverted: GrayImage { GrayImage(width: width, height: height, pixels: pixels.map { 1 - $0 }) }

    /// The rectangle `x..<x+w, y..<y+h`.
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> GrayImage {
        precondition(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= width && y + h <= height, "crop outside the image")
        var out = [Float]()
        out.reserveCapacity(w * h)
        for row in y..<(y + h) { out.append(contentsOf: pixels[(row * width + x)..<(row * width + x + w)]) }
        return GrayImage(width: w, height: h, pixels: out)
    }

    /// Resized to `w` x `h`: each output pixel is the area-weighted mean of the
    /// source pixels it covers when shrinking (anti-aliased, as MNIST's
    /// normalisation was), bilinear when enlarging.
    public func resized(width w: Int, height h: Int) -> GrayImage {
        precondition(w > 0 && h > 0, "empty size")
        if w <= width && h <= height { return areaResized(width: w, height: h) }
        var out = [Float](repeating: 0, count: w * h)
        let sx = Float(width) / Float(w), sy = Float(height) / Float(h)
        for oy in 0..<h {
            let fy = max(0, min(Float(height - 1), (Float(oy) + 0.5) * sy - 0.5))
            let y0 = Int(fy), y1 = min(height - 1, y0 + 1), ty = fy - Float(y0)
            for ox in 0..<w {
                let fx = max(0, min(Float(width - 1), (Float(ox) + 0.5) * sx - 0.5))
                let x0 = Int(fx), x1 = min(width - 1, x0 + 1), tx = fx - Float(x0)
                let top = self[x0, y0] * (1 - tx) + self[x1, y0] * tx
                let bottom = self[x0, y1] * (1 - tx) + self[x1, y1] * tx
                out[oy * w + ox] = top * (1 - ty) + bottom * ty
            }
        }
        return GrayImage(width: w, height: h, pixels: out)
    }

    private func areaResized(width w: Int, height h: Int) -> GrayImage {
        // Separable: columns first, then rows, each an exact box integral.
        func weights(from n: Int, to m: Int) -> [[(Int, Float)]] {
            let scale = Double(n) / Double(m)
            return (0..<m).map { o in
                let start = Double(o) * scale, end = Double(o + 1) * scale
                var list: [(Int, Float)] = []
                var i = Int(start)
                while Double(i) < end && i < n {
                    let overlap = min(end, Double(i + 1)) - max(start, Double(i))
                    if overlap > 0 { list.append((i, Float(overlap / scale))) }
                    i += 1
                }
                return list
            }
        }
        let wx = weights(from: width, to: w), wy = weights(from: height, to: h)
        var columns = [Float](repeating: 0, count: w * height)
        for y in 0..<height {
            for ox in 0..<w {
                var s: Float = 0
                for (x, k) in wx[ox] { s += pixels[y * width + x] * k }
                columns[y * w + ox] = s
            }
        }
        var out = [Float](repeating: 0, count: w * h)
        for oy in 0..<h {
            for (y, k) in wy[oy] {
                for ox in 0..<w { out[oy * w + ox] += columns[y * w + ox] * k }
            }
        }
        return GrayImage(width: w, height: h, pixels: out)
    }
}
