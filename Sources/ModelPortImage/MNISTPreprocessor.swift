import ModelPortRuntime

/// Turns a photo or scan of one digit into what an MNIST model expects,
/// the way the MNIST set itself was made (LeCun et al.): a white digit on
/// black, its bounding box scaled to fit 20x20 with the aspect ratio kept,
/// placed in a 28x28 field so that its centre of mass is at the centre.
///
/// Steps, in order:
/// 1. grayscale (BT.601 luminance); transparency composited over a background
///    that contrasts with the ink (see `GrayImage.init(_:)`);
/// 2. the background level is the median of the image's border; a light
///    background (> 0.5) means dark ink: the image is inverted;
/// 3. contrast is stretched so the background is 0 and the ink (99.5th
///    percentile) is 1;
/// 4. the digit is the set of connected blobs brighter than 0.5 that are at
///    least 5% of the largest blob's area (specks of noise are dropped), grown
///    by a small margin to keep anti-aliased edges; everything else is zeroed;
/// 5. the digit's bounding box is scaled (area-averaged) so its longer side is 20;
/// 6. placed in 28x28 with its centre of mass at (13.5, 13.5), rounded to whole pixels.
public struct MNISTPreprocessor: Sendable {
    /// The side of the output field (28) and of the box the digit is fitted to (20).
    public var side = 28
    public var box = 20

    public init() {}

    /// What was done to one image, for `--show-preprocessed` and tests.
    public struct Result: Sendable {
        /// `side` x `side`, values in [0, 1], white digit on black.
        public let image: GrayImage
        /// Whether the input had a light background and was inverted.
        public let inverted: Bool
        /// The digit's bounding box in the input image: x, y, width, height.
        public let boundingBox: (x: Int, y: Int, width: Int, height: Int)

        /// The image as one model input sample, `[side, side, 1]` (NHWC).
        public var tensor: Tensor { Tensor(shape: [1, image.height, image.width, 1], scalars: image.pixels) }
    }

    /// - Throws: `ImageError` naming `path` when no digit stands out from the
    ///   background (a blank or nearly uniform image).
    public func callAsFunction(_ input: GrayImage, path: String) throws -> Result {
        // 2. Background from the border.
        let background = Self.borderMedian(input)
        let inverted = background > 0.5
        var image = inverted ? input.inverted : input
        let low = inverted ? 1 - background : background

        // 3. Contrast stretch between the background and the ink.
        let high = Self.percentile(image.pixels, 0.995)
        guard high - low >= 0.1 else {
            throw ImageError(path, "no digit found: the image is blank or has too little contrast (background \(String(format: "%.2f", background)), brightest ink differs by \(String(format: "%.2f", max(0, high - low))))")
        }
        image.pixels = image.pixels.map { max(0, min(1, ($0 - low) / (high - low))) }

        // 4. Keep the digit's blobs, drop specks.
        var keep = Self.digitMask(image)
        guard let box0 = Self.boundingBox(keep, width: image.width, height: image.height) else {
            throw ImageError(path, "no digit found in the image")
        }
        let margin = max(1, Int((Double(max(box0.width, box0.height)) * 0.04).rounded()))
        keep = Self.dilated(keep, width: image.width, height: image.height, radius: margin)
        for i in 0..<keep.count where !keep[i] { image.pixels[i] = 0 }
        // The bounding box of what is left that is visibly ink.
        let visible = image.pixels.map { $0 > 0.1 }
        let bbox = Self.boundingBox(visible, width: image.width, height: image.height) ?? box0

        // 5. Fit the longer side to `box`, one scale for both axes, starting
        // at the box's corner (so a digit that was enlarged by a whole factor
        // is reduced back onto its original pixel grid).
        let scale = Double(box) / Double(max(bbox.width, bbox.height))
        let w = max(1, min(box, Int((Double(bbox.width) * scale - 1e-9).rounded(.up))))
        let h = max(1, min(box, Int((Double(bbox.height) * scale - 1e-9).rounded(.up))))
        var fitted = image.resampled(x0: bbox.x, y0: bbox.y, scale: scale, width: w, height: h)
        if let peak = fitted.pixels.max(), peak > 0 { fitted.pixels = fitted.pixels.map { min(1, $0 / peak) } }

        // 6. Centre of mass to the centre of the field.
        var mass: Float = 0, mx: Float = 0, my: Float = 0
        for y in 0..<h {
            for x in 0..<w {
                let v = fitted[x, y]
                mass += v; mx += v * Float(x); my += v * Float(y)
            }
        }
        let centre = Float(side - 1) / 2
        let ox = max(0, min(side - w, Int((centre - mx / mass).rounded())))
        let oy = max(0, min(side - h, Int((centre - my / mass).rounded())))
        var field = GrayImage(width: side, height: side, pixels: [Float](repeating: 0, count: side * side))
        for y in 0..<h { for x in 0..<w { field[ox + x, oy + y] = fitted[x, y] } }
        return Result(image: field, inverted: inverted, boundingBox: bbox)
    }

    /// Decodes and preprocesses an image file.
    /// - Throws: `ImageError` naming the file.
    public func callAsFunction(file path: String) throws -> Result {
        try self(GrayImage(ImageFile.read(path)), path: path)
    }

    static func borderMedian(_ image: GrayImage) -> Float {
        let t = max(1, min(image.width, image.height) / 50)
        var values: [Float] = []
        for y in 0..<image.height {
            for x in 0..<image.width where x < t || y < t || x >= image.width - t || y >= image.height - t {
                values.append(image[x, y])
            }
        }
        values.sort()
        return values[values.count / 2]
    }

    static func percentile(_ values: [Float], _ p: Double) -> Float {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
    }

    /// Pixels above 0.5 in 8-connected blobs of at least 5% of the largest blob's area.
    static func digitMask(_ image: GrayImage) -> [Bool] {
        let w = image.width, h = image.height
        var label = [Int32](repeating: -1, count: w * h)
        var areas: [Int] = []
        var stack: [Int] = []
        for start in 0..<(w * h) where image.pixels[start] > 0.5 && label[start] < 0 {
            let id = Int32(areas.count)
            var area = 0
            label[start] = id
            stack.append(start)
            while let p = stack.popLast() {
                area += 1
                let x = p % w, y = p / w
                for dy in -1...1 {
                    for dx in -1...1 where dx != 0 || dy != 0 {
                        let nx = x + dx, ny = y + dy
                        guard nx >= 0, ny >= 0, nx < w, ny < h else { continue }
                        let q = ny * w + nx
                        if label[q] < 0 && image.pixels[q] > 0.5 { label[q] = id; stack.append(q) }
                    }
                }
            }
            areas.append(area)
        }
        let minimum = Double(areas.max() ?? 0) * 0.05
        return label.map { $0 >= 0 && Double(areas[Int($0)]) >= minimum }
    }

    static func boundingBox(_ mask: [Bool], width: Int, height: Int) -> (x: Int, y: Int, width: Int, height: Int)? {
        var minX = width, minY = height, maxX = -1, maxY = -1
        for y in 0..<height {
            for x in 0..<width where mask[y * width + x] {
                minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
            }
        }
        return maxX < 0 ? nil : (minX, minY, maxX - minX + 1, maxY - minY + 1)
    }

    /// Square dilation, separable (rows then columns).
    static func dilated(_ mask: [Bool], width: Int, height: Int, radius: Int) -> [Bool] {
        func pass(_ m: [Bool], horizontal: Bool) -> [Bool] {
            var out = m
            let (outer, inner) = horizontal ? (height, width) : (width, height)
            for o in 0..<outer {
                var last = Int.min / 2
                // Forward: distance since the last set pixel; backward: until the next.
                var forward = [Bool](repeating: false, count: inner)
                for i in 0..<inner {
                    let idx = horizontal ? o * width + i : i * width + o
                    if m[idx] { last = i }
                    forward[i] = i - last <= radius
                }
                var next = Int.max / 2
                for i in stride(from: inner - 1, through: 0, by: -1) {
                    let idx = horizontal ? o * width + i : i * width + o
                    if m[idx] { next = i }
                    out[idx] = forward[i] || next - i <= radius
                }
            }
            return out
        }
        return pass(pass(mask, horizontal: true), horizontal: false)
    }
}
