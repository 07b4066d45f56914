import ModelPortImage
import ModelPortRuntime

/// A grid of input images with their predicted and true classes, as an SVG
/// (captions as text, each image an embedded PNG) and as a PNG (images only,
/// framed green when the prediction is right and red when it is wrong).
public struct DigitSheet: Sendable {
    public struct Tile: Sendable {
        /// Gray values in [0, 1], `side` x `side`.
        public let pixels: [Float]
        public let predicted: String
        public let truth: String
        public let confidence: Double
        public var correct: Bool { predicted == truth }
    }

    public let side: Int
    public let tiles: [Tile]
    public var columns = 10
    /// Display size of one image pixel.
    public var zoom = 3

    /// Tiles for `samples` of an evaluation, or nil when its inputs are not
    /// square one-channel images (e.g. an MLP fed flat vectors of another size).
    public init?(_ evaluation: Evaluation, samples: [Int]) {
        guard let inputs = evaluation.inputs else { return nil }
        let per = inputs.sampleCount
        let side = Int(Double(per).squareRoot().rounded())
        guard side * side == per, side > 0 else { return nil }
        self.side = side
        tiles = samples.map { s in
            Tile(pixels: Array(inputs.sample(s)), predicted: evaluation.classNames[evaluation.predictions[s]],
                 truth: evaluation.classNames[evaluation.labels[s]], confidence: evaluation.confidence(s))
        }
    }

    var tileSize: Int { side * zoom }
    let gap = 8
    let captionHeight = 34

    public func svg(title: String) throws -> String {
        let cols = min(columns, max(1, tiles.count))
        let rows = (tiles.count + cols - 1) / cols
        let cellW = Double(max(tileSize, 90) + gap), cellH = Double(tileSize + captionHeight + gap)
        var svg = SVG(width: 32 + cellW * Double(cols), height: 48 + cellH * Double(max(1, rows)))
        svg.text(title, 16, 26, size: 16, weight: "bold")
        if tiles.isEmpty { svg.text("none", 16, 60) }
        for (i, tile) in tiles.enumerated() {
            let x = 16 + Double(i % cols) * cellW, y = 40 + Double(i / cols) * cellH
            let png = try PNGCodec.encode(GrayImage(width: side, height: side, pixels: tile.pixels).pixelImage)
            let ix = x + (cellW - Double(gap) - Double(tileSize)) / 2
            svg.rect(ix - 2, y - 2, Double(tileSize) + 4, Double(tileSize) + 4, fill: tile.correct ? "#2e7d32" : "#c62828")
            svg.image(png: png, ix, y, Double(tileSize), Double(tileSize))
            let cx = x + (cellW - Double(gap)) / 2
            svg.text("pred \(tile.predicted) (\(String(format: "%.0f", tile.confidence * 100))%)", cx, y + Double(tileSize) + 15,
                     size: 11, anchor: .middle, fill: tile.correct ? "#1b5e20" : "#b71c1c", weight: "bold")
            svg.text("true \(tile.truth)", cx, y + Double(tileSize) + 28, size: 11, anchor: .middle, fill: "#333")
        }
        return svg.document
    }

    /// The images alone, as RGB pixels: a grid with a 2-pixel frame per tile.
    public var pixelImage: PixelImage {
        let cols = min(columns, max(1, tiles.count))
        let rows = max(1, (tiles.count + cols - 1) / cols)
        let frame = 2, pad = 4
        let cell = tileSize + 2 * frame + pad
        let width = pad + cols * cell, height = pad + rows * cell
        var bytes = [UInt8](repeating: 255, count: width * height * 3)
        func set(_ x: Int, _ y: Int, _ rgb: (UInt8, UInt8, UInt8)) {
            let o = (y * width + x) * 3
            bytes[o] = rgb.0; bytes[o + 1] = rgb.1; bytes[o + 2] = rgb.2
        }
        for (i, tile) in tiles.enumerated() {
            let x0 = pad + (i % cols) * cell, y0 = pad + (i / cols) * cell
            let color: (UInt8, UInt8, UInt8) = tile.correct ? (46, 125, 50) : (198, 40, 40)
            for y in 0..<(tileSize + 2 * frame) {
                for x in 0..<(tileSize + 2 * frame) {
                    let inside = x >= frame && y >= frame && x < frame + tileSize && y < frame + tileSize
                    if inside {
                        let v = tile.pixels[((y - frame) / zoom) * side + (x - frame) / zoom]
                        let g = UInt8((max(0, min(1, v)) * 255).rounded())
                        set(x0 + x, y0 + y, (g, g, g))
                    } else {
                        set(x0 + x, y0 + y, color)
                    }
                }
            }
        }
        return PixelImage(width: width, height: height, channels: 3, bytes: bytes)
    }
}
