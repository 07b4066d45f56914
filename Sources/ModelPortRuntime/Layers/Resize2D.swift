import Foundation

/// Resizing of the two spatial axes of NHWC input as ONNX `Resize` defines
/// it: each output coordinate maps back to an input coordinate (the
/// coordinate transformation), and the output is a weighted sum of the
/// neighbouring input elements (nearest, linear or cubic), one axis after the
/// other (height, then width), neighbours past the edge reading the edge;
/// with `antialias`, downsampling widens the linear or cubic kernel.
/// The importer uses it only where Keras's `UpSampling2D` (integer factors,
/// nearest or TensorFlow's bilinear) does not fit, so it has no Keras class.
/// The output size is fixed (ONNX's from the model's input size). No weights.
public final class Resize2D: Layer, @unchecked Sendable {
    public enum Mode: Sendable, Equatable {
        /// Which neighbour a coordinate between two elements takes.
        case nearest(NearestRounding)
        case linear
        /// Keys' cubic convolution with coefficient `a`; `excludeOutside`
        /// drops the neighbours past the edge and renormalizes the weights.
        case cubic(a: Double, excludeOutside: Bool)
    }

    public enum NearestRounding: String, Sendable { case roundPreferFloor, roundPreferCeil, floor, ceil }

    public enum CoordinateTransformation: String, Sendable {
        case halfPixel, halfPixelSymmetric, pytorchHalfPixel, alignCorners, asymmetric
        /// TensorFlow's crop_and_resize: the output spans the region of interest
        /// (`roi`, as fractions of the input's extent); coordinates outside the
        /// input read `extrapolationValue`.
        case tfCropAndResize
    }

    public let name: String
    public var typeName: String { "Resize2D" }
    public let mode: Mode
    public let transformation: CoordinateTransformation
    /// Downsampling linear or cubic: the kernel stretched by 1 / scale (so
    /// every input element contributes), its weights normalized.
    public let antialias: Bool
    /// For `tfCropAndResize`: the region of interest per axis (start, end), and the value outside the input.
    public let roi: (y: (start: Double, end: Double), x: (start: Double, end: Double))
    public let extrapolationValue: Float
    /// Output size (height, width).
    public let outputSize: (height: Int, width: Int)
    /// The scale factors (output over input; given, or derived from the sizes).
    public let scales: (y: Double, x: Double)

    public init(name: String, mode: Mode, transformation: CoordinateTransformation, outputSize: (Int, Int), scales: (Double, Double),
                antialias: Bool = false, roi: ((Double, Double), (Double, Double)) = ((0, 1), (0, 1)), extrapolationValue: Float = 0) {
        precondition(outputSize.0 >= 1 && outputSize.1 >= 1 && scales.0 > 0 && scales.1 > 0)
        if case .nearest = mode { precondition(!antialias, "antialias is for linear and cubic resizing") }
        self.name = name
        self.mode = mode
        self.antialias = antialias
        self.roi = ((roi.0.0, roi.0.1), (roi.1.0, roi.1.1))
        self.extrapolationValue = extrapolationValue
        self.transformation = transformation
        self.outputSize = outputSize
        self.scales = scales
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 3 else { throw RuntimeError("expects (height, width, channels) input, got \(inputShape)") }
        return [outputSize.height, outputSize.width, inputShape[2]]
    }

    /// The input elements and weights of each output coordinate along one
    /// axis of `inputSize` elements resized to `outputSize` by `scale`
    /// (ONNX's definition, in double); none for a coordinate outside the
    /// input under `tfCropAndResize` (it reads `extrapolationValue`).
    public func taps(inputSize: Int, outputSize: Int, scale: Double, roi: (start: Double, end: Double) = (0, 1)) -> [[(index: Int, weight: Double)]] {
        let length = scale * Double(inputSize)
        return (0..<outputSize).map { o in
            let y = Double(o)
            let x: Double
            switch transformation {
            case .alignCorners: x = length == 1 ? 0 : y * Double(inputSize - 1) / (length - 1)
            case .asymmetric: x = y / scale
            case .pytorchHalfPixel: x = length == 1 ? -0.5 : (y + 0.5) / scale - 0.5
            case .halfPixel: x = (y + 0.5) / scale - 0.5
            case .halfPixelSymmetric:
                let offset = Double(inputSize) / 2 * (1 - Double(outputSize) / length)
                x = offset + (y + 0.5) / scale - 0.5
            case .tfCropAndResize:
                let span = (roi.end - roi.start) * Double(inputSize - 1)
                x = (length == 1 ? span / 2 : y * span / (length - 1)) + roi.start * Double(inputSize - 1)
                if x < 0 || x > Double(inputSize - 1) { return [] }
            }
            let whole = x.rounded(.down)
            // The fraction past the element on the left, in (0, 1]: an exact element is 1 past its left neighbour.
            let ratio = x == whole ? 1 : x - whole
            var weights: [Double]
            switch mode {
            case .nearest(let rounding):
                let right: Bool
                if x == whole { right = true } else {
                    switch rounding {
                    case .roundPreferFloor: right = ratio > 0.5
                    case .roundPreferCeil: right = ratio >= 0.5
                    case .floor: right = false
                    case .ceil: right = true
                    }
                }
                weights = right ? [0, 1] : [1, 0]
            case .linear where antialias:
                // The triangle stretched by 1 / scale: taps from 1 - n / 2 to n / 2 around x.
                let s = min(scale, 1)
                let first = Int((-1 / s).rounded(.down)) + 1
                weights = (first..<(2 - first)).map { max(0, min(1, 1 - abs((Double($0) - ratio) * s))) }
            case .linear:
                weights = [1 - ratio, ratio]
            case .cubic(let a, _) where antialias:
                let s = min(scale, 1)
                func kernel(_ t: Double) -> Double {
                    let d = abs(t)
                    return d <= 1 ? ((a + 2) * d - (a + 3)) * d * d + 1 : d < 2 ? ((a * d - 5 * a) * d + 8 * a) * d - 4 * a : 0
                }
                let first = Int((-2 / s).rounded(.down)) + 1
                weights = (first..<(2 - first)).map { kernel((Double($0) - ratio) * s) }
            case .cubic(let a, _):
                func near(_ d: Double) -> Double { ((a + 2) * d - (a + 3)) * d * d + 1 }
                func far(_ d: Double) -> Double { ((a * d - 5 * a) * d + 8 * a) * d - 4 * a }
                weights = [far(ratio + 1), near(ratio), near(1 - ratio), far(2 - ratio)]
            }
            if antialias {
                let sum = weights.reduce(0, +)
                weights = weights.map { $0 / sum }
            }
            // The first neighbour: the element left of x, minus (n / 2 - 1); one more to the left when x is exact.
            let n = weights.count
            let start = Int(whole) - n / 2 + (x == whole ? 0 : 1)
            var result = (0..<n).map { (index: start + $0, weight: weights[$0]) }
            if case .cubic(_, true) = mode {
                result = result.map { (0..<inputSize).contains($0.index) ? $0 : (index: $0.index, weight: 0) }
                let sum = result.reduce(0) { $0 + $1.weight }
                if sum != 0 { result = result.map { (index: $0.index, weight: $0.weight / sum) } }
            }
            return result.map { (index: min(max($0.index, 0), inputSize - 1), weight: $0.weight) }
        }
    }

    /// One axis resized: `axis` 1 (height) or 2 (width) of an NHWC tensor.
    func resize(_ x: Tensor, axis: Int, taps: [[(index: Int, weight: Double)]]) -> Tensor {
        var shape = x.shape
        shape[axis] = taps.count
        let outer = x.shape[..<axis].reduce(1, *), size = x.shape[axis], inner = x.shape[(axis + 1)...].reduce(1, *)
        var out = Tensor(zeros: shape)
        for o in 0..<outer {
            for (k, row) in taps.enumerated() {
                let dst = (o * taps.count + k) * inner
                if row.isEmpty { for i in 0..<inner { out.scalars[dst + i] = extrapolationValue } }
                for (index, weight) in row where weight != 0 {
                    let src = (o * size + index) * inner, w = Float(weight)
                    for i in 0..<inner { out.scalars[dst + i] += w * x.scalars[src + i] }
                }
            }
        }
        return out
    }

    func allTaps(_ inputShape: [Int]) -> (rows: [[(index: Int, weight: Double)]], columns: [[(index: Int, weight: Double)]]) {
        (taps(inputSize: inputShape[1], outputSize: outputSize.height, scale: scales.y, roi: roi.y),
         taps(inputSize: inputShape[2], outputSize: outputSize.width, scale: scales.x, roi: roi.x))
    }

    public func forward(_ input: Tensor) -> Tensor {
        let (rows, columns) = allTaps(input.shape)
        return resize(resize(input, axis: 1, taps: rows), axis: 2, taps: columns)
    }
}

// MARK: - Training

extension Resize2D: TrainableLayer {
    public struct Cache: LayerCache { public let inputShape: [Int] }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        (forward(input), Cache(inputShape: input.shape))
    }

    /// The transposed maps, width then height: each output element's
    /// gradient goes back to its neighbours, times their weights (an
    /// extrapolated one, a constant, to none).
    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let shape = (cache as! Cache).inputShape
        let (rows, columns) = allTaps(shape)
        func back(_ dy: Tensor, axis: Int, size: Int, taps: [[(index: Int, weight: Double)]]) -> Tensor {
            var inShape = dy.shape
            inShape[axis] = size
            let outer = dy.shape[..<axis].reduce(1, *), inner = dy.shape[(axis + 1)...].reduce(1, *)
            var dx = Tensor(zeros: inShape)
            for o in 0..<outer {
                for (k, row) in taps.enumerated() {
                    let src = (o * taps.count + k) * inner
                    for (index, weight) in row where weight != 0 {
                        let dst = (o * size + index) * inner, w = Float(weight)
                        for i in 0..<inner { dx.scalars[dst + i] += w * dy.scalars[src + i] }
                    }
                }
            }
            return dx
        }
        precondition(outputGradient.shape == [shape[0], outputSize.height, outputSize.width, shape[3]], "\(name): gradient shape \(outputGradient.shape)")
        return back(back(outputGradient, axis: 2, size: shape[2], taps: columns), axis: 1, size: shape[1], taps: rows)
    }
}
