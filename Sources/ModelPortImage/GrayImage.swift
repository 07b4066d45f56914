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

    /// `w` x `h` pixels resampled with one scale factor for both axes (so the
    /// aspect ratio is kept), starting at source point (`x0`, `y0`); source
    /// pixels outside the image count as 0. Shrinking averages the covered
    /// source area (anti-aliased, as MNIST's normalisation was); enlarging
    /// interpolates bilinearly.
    /// - Parameter scale: output pixels per source pixel.
    public func resampled(x0: Int, y0: Int, scale: Double, width w: Int, height h: Int) -> GrayImage {
        precondition(w > 0 && h > 0 && scale > 0, "empty size or scale")
        if scale > 1 {
            var out = [Float](repeating: 0, count: w * h)
            func sample(_ x: Int, _ y: Int) -> Float { x >= 0 && y >= 0 && x < width && y < height ? self[x, y] : 0 }
            for oy in 0..<h {
                let fy = Double(y0) + (Double(oy) + 0.5) / scale - 0.5
                let yi = Int(fy.rounded(.down)), ty = Float(fy - Double(yi))
                for ox in 0..<w {
                    let fx = Double(x0) + (Double(ox) + 0.5) / scale - 0.5
                    let xi = Int(fx.rounded(.down)), tx = Float(fx - Double(xi))
                    let top = sample(max(xi, x0), max(yi, y0)) * (1 - tx) + sample(xi + 1, max(yi, y0)) * tx
                    let bottom = sample(max(xi, x0), yi + 1) * (1 - tx) + sample(xi + 1, yi + 1) * tx
                    out[oy * w + ox] = top * (1 - ty) + bottom * ty
                }
            }
            return GrayImage(width: w, height: h, pixels: out)
        }
        // Separable box integrals: columns first, then rows.
        func weights(origin: Int, count m: Int, limit n: Int) -> [[(Int, Float)]] {
            (0..<m).map { o in
                let start = Double(origin) + Double(o) / scale, end = Double(origin) + Double(o + 1) / scale
                var list: [(Int, Float)] = []
                var i = Int(start.rounded(.down))
                while Double(i) < end {
                    let overlap = min(end, Double(i + 1)) - max(start, Double(i))
                    if overlap > 0, i >= 0, i < n { list.append((i, Float(overlap * scale))) }
                    i += 1
                }
                return list
            }
        }
        let wx = weights(origin: x0, count: w, limit: width), wy = weights(origin: y0, count: h, limit: height)
        let rows = Set(wy.flatMap { $0.map(\.0) })
        var columns = [Float](repeating: 0, count: w * height)
        for y in rows {
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
