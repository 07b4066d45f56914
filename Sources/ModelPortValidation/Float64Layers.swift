import Foundation
import ModelPortRuntime

/// Each runtime layer's inference computation in double precision, written
/// from the layer's definition (Keras's formula), for `Float64Run`.
///
/// Layers that only move values (Flatten, Reshape, Permute, padding and
/// cropping, RepeatVector, nearest UpSampling2D, Concatenate) run the
/// float32 layer itself on element indices — exact below 2^24 elements — and
/// gather the doubles, so their index arithmetic is never written twice.
enum Float64Layers {
    typealias Values = Float64Run.Values

    static func supports(_ layer: any Layer) -> Bool {
        switch layer {
        case is InputLayer, is Dropout, is InferenceIdentity, is RandomAugmentation, is Flatten, is Reshape, is Permute,
             is Padding2D, is RepeatVector, is UpSampling2D, is Merge, is ScaledSum, is Dense, is Conv2D, is DepthwiseConv2D,
             is SeparableConv2D, is Conv2DTranspose, is BatchNormalization, is LayerNormalization, is Normalization,
             is UnitNormalization, is Rescaling, is LayerScale, is ActivationLayer, is ReLU, is ELU, is PReLU, is Softmax,
             is MaxPooling2D, is AveragePooling2D, is GlobalPooling2D, is ConstantArithmetic, is UnaryMath, is StridedSlice,
             is Stack, is GroupedConv2D, is LocalResponseNormalization, is InstanceNormalization, is LpNormalization,
             is WindowPooling, is Pad2D, is Resize2D, is WindowConvolution, is WindowConvTranspose:
            return true
        default:
            return false
        }
    }

    static func apply(_ layer: any Layer, _ inputs: [Values]) throws -> Values {
        let x = inputs[0]
        switch layer {
        case is InputLayer, is Dropout, is InferenceIdentity, is RandomAugmentation:
            return x
        case let l as UpSampling2D where l.interpolation == .bilinear:
            return bilinear(x, l)
        case let m as Merge where m.operation != .concatenate:
            return try elementwise(inputs, m.operation)
        case is Flatten, is Reshape, is Permute, is Padding2D, is RepeatVector, is UpSampling2D, is Merge, is StridedSlice, is Stack:
            return try moved(inputs, by: layer)
        case let l as ConstantArithmetic:
            // The constant, numpy-broadcast over one sample, then each element against it.
            let sample = x.sampleShape
            let padded = [Int](repeating: 1, count: sample.count - l.constant.rank) + l.constant.shape
            let c = Broadcasting.expand(Tensor(shape: [1] + padded, scalars: l.constant.scalars), to: [1] + sample).scalars
            let per = max(c.count, 1)
            return Values(shape: x.shape, scalars: x.scalars.enumerated().map { i, v in
                let k = Double(c[i % per])
                let (a, b) = l.constantFirst ? (k, v) : (v, k)
                switch l.operation {
                case .add: return a + b
                case .subtract: return a - b
                case .multiply: return a * b
                case .divide: return a / b
                case .maximum: return max(a, b)
                case .minimum: return min(a, b)
                case .power: return Foundation.pow(a, b)
                }
            })
        case let l as UnaryMath:
            return map(x) { v in
                switch l.function {
                case .sqrt: return v.squareRoot()
                case .square: return v * v
                case .absolute: return abs(v)
                case .negative: return -v
                case .log: return Foundation.log(v)
                case .reciprocal: return 1 / v
                }
            }
        case let l as ScaledSum:
            return map2(inputs[0], inputs[1]) { $0 + Double(l.scale) * $1 }
        case let l as Dense:
            return activate(dense(x, l), l.activation)
        case let l as Conv2D:
            let k = Values(l.kernel.value)
            return activate(try convolution(x, kernel: k, bias: l.bias, groups: 1, kernelSize: l.kernelSize, strides: l.strides,
                                        dilation: l.dilation, padding: l.padding), l.activation)
        case let l as GroupedConv2D:
            return activate(try convolution(x, kernel: Values(l.kernel.value), bias: l.bias, groups: l.groups, kernelSize: l.kernelSize,
                                            strides: l.strides, dilation: l.dilation, padding: l.padding), l.activation)
        case let l as DepthwiseConv2D:
            // Depthwise = one group per input channel; kernel (kh, kw, c, m) is (kh, kw, 1, c * m) in memory.
            let k = Values(shape: [l.kernelSize.height, l.kernelSize.width, 1, l.inputChannels * l.depthMultiplier],
                           scalars: l.kernel.value.scalars.map(Double.init))
            return activate(try convolution(x, kernel: k, bias: l.bias, groups: l.inputChannels, kernelSize: l.kernelSize,
                                        strides: l.strides, dilation: l.dilation, padding: l.padding), l.activation)
        case let l as SeparableConv2D:
            let c = l.depthwiseKernel.shape[2], m = l.depthwiseKernel.shape[3]
            let dk = Values(shape: [l.kernelSize.height, l.kernelSize.width, 1, c * m], scalars: l.depthwiseKernel.value.scalars.map(Double.init))
            let depthwise = try convolution(x, kernel: dk, bias: nil, groups: c, kernelSize: l.kernelSize, strides: l.strides,
                                        dilation: l.dilation, padding: l.padding)
            return activate(try convolution(depthwise, kernel: Values(l.pointwiseKernel.value), bias: l.bias, groups: 1, kernelSize: (1, 1),
                                        strides: (1, 1), dilation: (1, 1), padding: .valid), l.activation)
        case let l as Conv2DTranspose:
            return activate(transposed(x, l), l.activation)
        case let l as BatchNormalization:
            let mean = l.movingMean.value.scalars, variance = l.movingVariance.value.scalars
            let gamma = l.gamma?.value.scalars, beta = l.beta?.value.scalars
            return perChannel(x) { v, c in
                let normalized = (v - Double(mean[c])) / (Double(variance[c]) + Double(l.epsilon)).squareRoot()
                return normalized * Double(gamma?[c] ?? 1) + Double(beta?[c] ?? 0)
            }
        case let l as LayerNormalization:
            return rows(x) { row in
                let mean = row.reduce(0, +) / Double(row.count)
                let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(row.count)
                let inverse = 1 / (variance + Double(l.epsilon)).squareRoot()
                return row.enumerated().map { k, v in
                    (v - mean) * inverse * Double(l.gamma?.value.scalars[k] ?? 1) + Double(l.beta?.value.scalars[k] ?? 0)
                }
            }
        case let l as Normalization:
            let mean = l.mean.value.scalars, variance = l.variance.value.scalars, f = l.features
            return perChannel(x) { v, c in
                let k = f == 1 ? 0 : c
                return (v - Double(mean[k])) / max(Double(variance[k]).squareRoot(), Double(l.epsilon))
            }
        case let l as UnitNormalization:
            return rows(x) { row in
                let inverse = min(1 / row.reduce(0) { $0 + $1 * $1 }.squareRoot(), Double(l.maxInverseNorm))
                return row.map { $0 * inverse }
            }
        case let l as LocalResponseNormalization:
            let (before, after) = ((l.size - 1) / 2, l.size / 2)
            return rows(x) { row in
                row.indices.map { c in
                    let sum = row[max(0, c - before)...min(row.count - 1, c + after)].reduce(0) { $0 + $1 * $1 }
                    return row[c] / Foundation.pow(Double(l.bias) + Double(l.alpha) / Double(l.size) * sum, Double(l.beta))
                }
            }
        case let l as InstanceNormalization:
            // Per sample and channel, over every other sample axis.
            let c = l.channels, positions = x.count / (x.batch * c)
            var out = x.scalars
            for b in 0..<x.batch {
                for ch in 0..<c {
                    let at = (0..<positions).map { b * positions * c + $0 * c + ch }
                    let mean = at.reduce(0) { $0 + x.scalars[$1] } / Double(positions)
                    let variance = at.reduce(0) { $0 + (x.scalars[$1] - mean) * (x.scalars[$1] - mean) } / Double(positions)
                    for i in at {
                        out[i] = (x.scalars[i] - mean) / (variance + Double(l.epsilon)).squareRoot() * Double(l.gamma.value.scalars[ch])
                            + Double(l.beta.value.scalars[ch])
                    }
                }
            }
            return Values(shape: x.shape, scalars: out)
        case let l as LpNormalization:
            let shape = x.shape, k = l.axis + 1
            let length = shape[k], inner = shape[(k + 1)...].reduce(1, *), outer = x.count / (length * inner)
            var out = x.scalars
            for o in 0..<outer {
                for i in 0..<inner {
                    let at = (0..<length).map { (o * length + $0) * inner + i }
                    let norm = l.p == 1 ? at.reduce(0) { $0 + abs(x.scalars[$1]) } : at.reduce(0) { $0 + x.scalars[$1] * x.scalars[$1] }.squareRoot()
                    for j in at { out[j] = x.scalars[j] / norm }
                }
            }
            return Values(shape: x.shape, scalars: out)
        case let l as Rescaling:
            return map(x) { $0 * Double(l.scale) + Double(l.offset) }
        case let l as LayerScale:
            let g = l.gamma.value.scalars
            return perChannel(x) { v, c in v * Double(g[c]) }
        case let l as ActivationLayer:
            return activate(x, l.activation)
        case let l as ReLU:
            return map(x) { v in
                var y = v >= Double(l.threshold) ? v : Double(l.negativeSlope) * (v - Double(l.threshold))
                if let m = l.maxValue { y = min(y, Double(m)) }
                return y
            }
        case let l as ELU:
            return map(x) { $0 > 0 ? $0 : Double(l.alpha) * Foundation.expm1($0) }
        case let l as PReLU:
            let alpha = Values(l.alpha.value)
            let expanded = Broadcasting.expand(Tensor(shape: [1] + alpha.shape, scalars: (0..<alpha.count).map(Float.init)),
                                               to: [1] + x.sampleShape)
            let per = x.count / x.batch
            var out = x
            for i in 0..<x.count where x.scalars[i] < 0 {
                out.scalars[i] = alpha.scalars[Int(expanded.scalars[i % per])] * x.scalars[i]
            }
            return out
        case let l as Softmax:
            return softmax(x, axis: l.axis, log: false)
        case let l as MaxPooling2D:
            return try pool(x, kernel: l.poolSize, strides: l.strides, padding: l.padding, average: false)
        case let l as AveragePooling2D:
            return try pool(x, kernel: l.poolSize, strides: l.strides, padding: l.padding, average: true)
        case let l as WindowPooling:
            return try windowPool(x, l)
        case let l as WindowConvolution:
            return try windowConvolution(x, l)
        case let l as WindowConvTranspose:
            return windowConvTranspose(x, l)
        case let l as Pad2D:
            return pad(x, l)
        case let l as Resize2D:
            // The layer's neighbours and weights (ONNX's definition, computed in double), summed in double, one axis
            // after the other as ONNX defines it (an extrapolated coordinate reads the constant).
            func along(_ v: Values, axis: Int, _ taps: [[(index: Int, weight: Double)]]) -> Values {
                let outer = v.shape[..<axis].reduce(1, *), size = v.shape[axis], inner = v.shape[(axis + 1)...].reduce(1, *)
                var shape = v.shape
                shape[axis] = taps.count
                var out = [Double](repeating: 0, count: outer * taps.count * inner)
                for o in 0..<outer { for (k, row) in taps.enumerated() { for i in 0..<inner {
                    out[(o * taps.count + k) * inner + i] = row.isEmpty ? Double(l.extrapolationValue)
                        : row.reduce(0) { $0 + $1.weight * v.scalars[(o * size + $1.index) * inner + i] }
                } } }
                return Values(shape: shape, scalars: out)
            }
            let rows = l.taps(inputSize: x.shape[1], outputSize: l.outputSize.height, scale: l.scales.y, roi: l.roi.y)
            let columns = l.taps(inputSize: x.shape[2], outputSize: l.outputSize.width, scale: l.scales.x, roi: l.roi.x)
            return along(along(x, axis: 1, rows), axis: 2, columns)
        case let l as GlobalPooling2D:
            let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
            var out = [Double](repeating: l.kind == .max ? -.infinity : 0, count: n * c)
            for b in 0..<n { for p in 0..<(h * w) { for ch in 0..<c {
                let v = x.scalars[(b * h * w + p) * c + ch]
                out[b * c + ch] = l.kind == .max ? max(out[b * c + ch], v) : out[b * c + ch] + v
            } } }
            if l.kind == .average { out = out.map { $0 / Double(h * w) } }
            return Values(shape: l.keepDims ? [n, 1, 1, c] : [n, c], scalars: out)
        default:
            throw RuntimeError("layer '\(layer.name)' (\(layer.typeName)) has no float64 definition in ModelPort's validator")
        }
    }

    // MARK: - Element-wise

    static func map(_ x: Values, _ f: (Double) -> Double) -> Values { Values(shape: x.shape, scalars: x.scalars.map(f)) }

    static func map2(_ a: Values, _ b: Values, _ f: (Double, Double) -> Double) -> Values {
        Values(shape: a.shape, scalars: zip(a.scalars, b.scalars).map(f))
    }

    /// `f(value, channel)` over the last axis.
    static func perChannel(_ x: Values, _ f: (Double, Int) -> Double) -> Values {
        let c = x.shape.last ?? 1
        return Values(shape: x.shape, scalars: x.scalars.enumerated().map { i, v in f(v, i % c) })
    }

    /// `f` on each vector along the last axis.
    static func rows(_ x: Values, _ f: ([Double]) -> [Double]) -> Values {
        let c = x.shape.last ?? 1
        var out: [Double] = []
        out.reserveCapacity(x.count)
        for r in 0..<(x.count / max(c, 1)) { out += f(Array(x.scalars[(r * c)..<((r + 1) * c)])) }
        return Values(shape: x.shape, scalars: out)
    }

    static func elementwise(_ inputs: [Values], _ operation: Merge.Operation) throws -> Values {
        let shape = try [inputs[0].batch] + Broadcasting.shape(inputs.map(\.sampleShape))
        let expanded = inputs.map { expand($0, to: shape) }
        var out = expanded[0].scalars
        for x in expanded.dropFirst() {
            for i in out.indices {
                let v = x.scalars[i]
                switch operation {
                case .add, .average: out[i] += v
                case .subtract: out[i] -= v
                case .multiply: out[i] *= v
                case .maximum: out[i] = max(out[i], v)
                case .minimum: out[i] = min(out[i], v)
                case .concatenate: break
                }
            }
        }
        if operation == .average { out = out.map { $0 / Double(inputs.count) } }
        return Values(shape: shape, scalars: out)
    }

    static func expand(_ x: Values, to shape: [Int]) -> Values {
        if x.shape == shape { return x }
        let index = Broadcasting.expand(indexTensor(x.shape, from: 0), to: shape)
        return Values(shape: shape, scalars: index.scalars.map { x.scalars[Int($0)] })
    }

    // MARK: - Moving values

    /// Element indices (plus `from`) as a float32 tensor: exact below 2^24.
    static func indexTensor(_ shape: [Int], from start: Int) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { Float($0 + start) })
    }

    /// The float32 layer applied to indices (0 marks an inserted zero), then the doubles gathered.
    static func moved(_ inputs: [Values], by layer: any Layer) throws -> Values {
        let total = inputs.reduce(0) { $0 + $1.count }
        guard total < 1 << 24 else {
            throw RuntimeError("layer '\(layer.name)' (\(layer.typeName)): more than 2^24 elements for the float64 run; use fewer samples")
        }
        var start = 1
        var indices: [Tensor] = []
        for x in inputs {
            indices.append(indexTensor(x.shape, from: start))
            start += x.count
        }
        let flat = [0] + inputs.flatMap(\.scalars)
        let moved = (layer as? any MergeLayer)?.forward(inputs: indices) ?? layer.forward(indices[0])
        return Values(shape: moved.shape, scalars: moved.scalars.map { flat[Int($0)] })
    }

    // MARK: - Dense, convolutions, pooling

    static func dense(_ x: Values, _ l: Dense) -> Values {
        let k = l.kernel.value.scalars, n = l.units, inputs = l.kernel.shape[0]
        var out = [Double](repeating: 0, count: x.count / inputs * n)
        for r in 0..<(x.count / inputs) {
            for o in 0..<n {
                var sum = Double(l.bias?.value.scalars[o] ?? 0)
                for i in 0..<inputs { sum += x.scalars[r * inputs + i] * Double(k[i * n + o]) }
                out[r * n + o] = sum
            }
        }
        return Values(shape: Array(x.shape.dropLast()) + [n], scalars: out)
    }

    /// A grouped 2-D convolution, Keras layout: kernel (kh, kw, in / groups, out), output
    /// channel o reads input channels of group o / (out / groups).
    static func convolution(_ x: Values, kernel k: Values, bias: Parameter?, groups: Int, kernelSize: (height: Int, width: Int),
                            strides: (y: Int, x: Int), dilation: (y: Int, x: Int), padding: WindowGeometry.Padding) throws -> Values {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let g = try WindowGeometry(inHeight: h, inWidth: w, kernel: kernelSize, strides: strides, dilation: dilation, padding: padding)
        let f = k.shape[3], perGroupIn = k.shape[2], perGroupOut = f / groups
        var out = [Double](repeating: 0, count: n * g.outHeight * g.outWidth * f)
        for b in 0..<n { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth {
            let dst = ((b * g.outHeight + oy) * g.outWidth + ox) * f
            for o in 0..<f {
                var sum = Double(bias?.value.scalars[o] ?? 0)
                let group = o / perGroupOut
                for ky in 0..<g.kernelHeight {
                    let iy = oy * g.strideY - g.padTop + ky * g.dilationY
                    guard iy >= 0, iy < h else { continue }
                    for kx in 0..<g.kernelWidth {
                        let ix = ox * g.strideX - g.padLeft + kx * g.dilationX
                        guard ix >= 0, ix < w else { continue }
                        let src = ((b * h + iy) * w + ix) * c + group * perGroupIn
                        let wk = ((ky * g.kernelWidth + kx) * perGroupIn) * f + o
                        for i in 0..<perGroupIn { sum += x.scalars[src + i] * k.scalars[wk + i * f] }
                    }
                }
                out[dst + o] = sum
            }
        } } }
        return Values(shape: [n, g.outHeight, g.outWidth, f], scalars: out)
    }

    /// Keras's Conv2DTranspose: input pixel (iy, ix) adds kernel[ky, kx, o, c] times
    /// its channel c to output pixel (iy * stride - pad + ky, ix * stride - pad + kx).
    static func transposed(_ x: Values, _ l: Conv2DTranspose) -> Values {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (kh, kw, f) = (l.kernelSize.height, l.kernelSize.width, l.filters)
        func extent(_ size: Int, _ k: Int, _ s: Int) -> (Int, Int) {
            l.padding == .valid ? ((size - 1) * s + k, 0) : (size * s, max(k - s, 0) / 2)
        }
        let (oh, padTop) = extent(h, kh, l.strides.y), (ow, padLeft) = extent(w, kw, l.strides.x)
        let k = l.kernel.value.scalars
        var out = [Double](repeating: 0, count: n * oh * ow * f)
        for b in 0..<n { for iy in 0..<h { for ix in 0..<w {
            let src = ((b * h + iy) * w + ix) * c
            for ky in 0..<kh {
                let oy = iy * l.strides.y - padTop + ky
                guard oy >= 0, oy < oh else { continue }
                for kx in 0..<kw {
                    let ox = ix * l.strides.x - padLeft + kx
                    guard ox >= 0, ox < ow else { continue }
                    let dst = ((b * oh + oy) * ow + ox) * f
                    for o in 0..<f {
                        var sum = 0.0
                        for ch in 0..<c { sum += x.scalars[src + ch] * Double(k[((ky * kw + kx) * f + o) * c + ch]) }
                        out[dst + o] += sum
                    }
                }
            }
        } } }
        if let bias = l.bias { for i in out.indices { out[i] += Double(bias.value.scalars[i % f]) } }
        return Values(shape: [n, oh, ow, f], scalars: out)
    }

    /// Max or average over each window's positions inside the image (padding never counts).
    static func pool(_ x: Values, kernel: (height: Int, width: Int), strides: (y: Int, x: Int), padding: WindowGeometry.Padding,
                     average: Bool) throws -> Values {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let g = try WindowGeometry(inHeight: h, inWidth: w, kernel: kernel, strides: strides, dilation: (1, 1), padding: padding)
        var out = [Double](repeating: 0, count: n * g.outHeight * g.outWidth * c)
        for b in 0..<n { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth { for ch in 0..<c {
            var acc = average ? 0 : -Double.infinity, count = 0
            for ky in 0..<g.kernelHeight {
                let iy = oy * g.strideY - g.padTop + ky
                guard iy >= 0, iy < h else { continue }
                for kx in 0..<g.kernelWidth {
                    let ix = ox * g.strideX - g.padLeft + kx
                    guard ix >= 0, ix < w else { continue }
                    let v = x.scalars[((b * h + iy) * w + ix) * c + ch]
                    acc = average ? acc + v : max(acc, v)
                    count += 1
                }
            }
            out[((b * g.outHeight + oy) * g.outWidth + ox) * c + ch] = average ? acc / Double(count) : acc
        } } } }
        return Values(shape: [n, g.outHeight, g.outWidth, c], scalars: out)
    }

    /// ONNX pooling: every window position (o * stride - pad + t * dilation per
    /// axis) inside the input takes part; an average divides by those, or, counting
    /// the padding, by the positions inside input plus pads.
    static func windowPool(_ x: Values, _ l: WindowPooling) throws -> Values {
        let sample = x.sampleShape, spatial = Array(sample.dropLast()), c = sample.last!
        let out = Array(try l.outputShape(for: sample).dropLast())
        let inCount = sample.reduce(1, *), outCount = out.reduce(1, *) * c
        var result = [Double](repeating: 0, count: x.batch * outCount)
        for o in 0..<out.reduce(1, *) {
            // The output coordinate per axis, then every kernel offset combination.
            var rest = o, coordinate = [Int](repeating: 0, count: out.count)
            for a in stride(from: out.count - 1, through: 0, by: -1) { coordinate[a] = rest % out[a]; rest /= out[a] }
            var inside: [Int] = [], counted = 0
            for t in 0..<l.kernel.reduce(1, *) {
                var r = t, flat = 0, isInside = true, isCounted = true
                for a in stride(from: out.count - 1, through: 0, by: -1) {
                    let k = r % l.kernel[a]
                    r /= l.kernel[a]
                    let p = coordinate[a] * l.strides[a] - l.padsBegin[a] + k * l.dilations[a]
                    isInside = isInside && p >= 0 && p < spatial[a]
                    isCounted = isCounted && p >= -l.padsBegin[a] && p < spatial[a] + l.padsEnd[a]
                    flat += p * spatial[(a + 1)...].reduce(1, *)
                }
                if isInside { inside.append(flat) }
                if l.kind == .average(countIncludePad: true) ? isCounted : isInside { counted += 1 }
            }
            for b in 0..<x.batch {
                for ch in 0..<c {
                    let values = inside.map { x.scalars[b * inCount + $0 * c + ch] }
                    result[b * outCount + o * c + ch] = l.kind == .max
                        ? values.reduce(-Double.infinity) { $1.isNaN || $0.isNaN ? .nan : max($0, $1) }
                        : values.reduce(0, +) / Double(counted)
                }
            }
        }
        return Values(shape: [x.batch] + out + [c], scalars: result)
    }

    /// ONNX Conv over any number of spatial axes: output o of filter f sums, over the
    /// kernel offsets t (per axis o * stride - pad + t * dilation, inside the input) and
    /// the input channels of f's group, input times kernel; plus the bias.
    static func windowConvolution(_ x: Values, _ l: WindowConvolution) throws -> Values {
        let sample = x.sampleShape, spatial = Array(sample.dropLast()), c = l.inputChannels, f = l.filters
        let out = Array(try l.outputShape(for: sample).dropLast())
        let perGroupIn = c / l.groups, perGroupOut = f / l.groups
        let w = l.kernel.value.scalars.map(Double.init)
        let inCount = sample.reduce(1, *), outPositions = out.reduce(1, *)
        var result = [Double](repeating: 0, count: x.batch * outPositions * f)
        for o in 0..<outPositions {
            var rest = o, coordinate = [Int](repeating: 0, count: out.count)
            for a in stride(from: out.count - 1, through: 0, by: -1) { coordinate[a] = rest % out[a]; rest /= out[a] }
            for t in 0..<l.kernelSize.reduce(1, *) {
                var r = t, flat = 0, inside = true
                for a in stride(from: out.count - 1, through: 0, by: -1) {
                    let k = r % l.kernelSize[a]
                    r /= l.kernelSize[a]
                    let p = coordinate[a] * l.strides[a] - l.padsBegin[a] + k * l.dilations[a]
                    inside = inside && p >= 0 && p < spatial[a]
                    flat += p * spatial[(a + 1)...].reduce(1, *)
                }
                guard inside else { continue }
                for b in 0..<x.batch {
                    for filter in 0..<f {
                        let group = filter / perGroupOut
                        var sum = 0.0
                        for i in 0..<perGroupIn { sum += x.scalars[b * inCount + flat * c + group * perGroupIn + i] * w[(t * perGroupIn + i) * f + filter] }
                        result[(b * outPositions + o) * f + filter] += sum
                    }
                }
            }
        }
        if let bias = l.bias { for i in result.indices { result[i] += Double(bias.value.scalars[i % f]) } }
        return Values(shape: [x.batch] + out + [f], scalars: result)
    }

    /// ONNX ConvTranspose: input position i of channel c adds, through kernel offset t,
    /// x times kernel to output position i * stride + t * dilation - padBegin (per axis,
    /// inside the output) of each filter of c's group; plus the bias.
    static func windowConvTranspose(_ x: Values, _ l: WindowConvTranspose) -> Values {
        let sample = x.sampleShape, spatial = Array(sample.dropLast()), c = l.inputChannels, f = l.filters
        let perGroupIn = c / l.groups, perGroupOut = f / l.groups
        let w = l.kernel.value.scalars.map(Double.init)
        let inPositions = spatial.reduce(1, *), outPositions = l.outputSize.reduce(1, *)
        var result = [Double](repeating: 0, count: x.batch * outPositions * f)
        for i in 0..<inPositions {
            var rest = i, coordinate = [Int](repeating: 0, count: spatial.count)
            for a in stride(from: spatial.count - 1, through: 0, by: -1) { coordinate[a] = rest % spatial[a]; rest /= spatial[a] }
            for t in 0..<l.kernelSize.reduce(1, *) {
                var r = t, flat = 0, inside = true
                for a in stride(from: spatial.count - 1, through: 0, by: -1) {
                    let k = r % l.kernelSize[a]
                    r /= l.kernelSize[a]
                    let o = coordinate[a] * l.strides[a] + k * l.dilations[a] - l.padsBegin[a]
                    inside = inside && o >= 0 && o < l.outputSize[a]
                    flat += o * l.outputSize[(a + 1)...].reduce(1, *)
                }
                guard inside else { continue }
                for b in 0..<x.batch {
                    for ch in 0..<c {
                        let v = x.scalars[(b * inPositions + i) * c + ch], group = ch / perGroupIn
                        for m in 0..<perGroupOut { result[(b * outPositions + flat) * f + group * perGroupOut + m] += v * w[(t * perGroupOut + m) * c + ch] }
                    }
                }
            }
        }
        if let bias = l.bias { for j in result.indices { result[j] += Double(bias.value.scalars[j % f]) } }
        return Values(shape: [x.batch] + l.outputSize + [f], scalars: result)
    }

    /// ONNX Pad's modes on an NHWC image: out-of-range coordinates read the
    /// constant, the clamped coordinate (edge), the mirrored one without the
    /// edge repeated (reflect) or the one modulo the size (wrap).
    static func pad(_ x: Values, _ l: Pad2D) -> Values {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = (h + l.top + l.bottom, w + l.left + l.right)
        func source(_ i: Int, _ size: Int) -> Int? {
            if (0..<size).contains(i) { return i }
            switch l.mode {
            case .constant: return nil
            case .edge: return i < 0 ? 0 : size - 1
            case .wrap: return (i % size + size) % size
            case .reflect:
                var j = i
                while !(0..<size).contains(j) { j = j < 0 ? -j : 2 * (size - 1) - j }
                return j
            }
        }
        var fill = 0.0
        if case .constant(let v) = l.mode { fill = Double(v) }
        var out = [Double](repeating: fill, count: n * oh * ow * c)
        for b in 0..<n { for oy in 0..<oh { for ox in 0..<ow {
            guard let iy = source(oy - l.top, h), let ix = source(ox - l.left, w) else { continue }
            for ch in 0..<c { out[((b * oh + oy) * ow + ox) * c + ch] = x.scalars[((b * h + iy) * w + ix) * c + ch] }
        } } }
        return Values(shape: [n, oh, ow, c], scalars: out)
    }

    /// TensorFlow's bilinear resize with half-pixel centres, in double.
    static func bilinear(_ x: Values, _ l: UpSampling2D) -> Values {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = (h * l.size.y, w * l.size.x)
        func tap(_ o: Int, _ input: Int, _ output: Int) -> (Int, Int, Double) {
            let p = (Double(o) + 0.5) * Double(input) / Double(output) - 0.5
            let lower = min(max(Int(p.rounded(.down)), 0), input - 1), upper = max(min(Int(p.rounded(.up)), input - 1), 0)
            return (lower, upper, p - p.rounded(.down))
        }
        var out = [Double](repeating: 0, count: n * oh * ow * c)
        for b in 0..<n { for oy in 0..<oh { for ox in 0..<ow {
            let (y0, y1, wy) = tap(oy, h, oh), (x0, x1, wx) = tap(ox, w, ow)
            for ch in 0..<c {
                func at(_ y: Int, _ xx: Int) -> Double { x.scalars[((b * h + y) * w + xx) * c + ch] }
                let top = at(y0, x0) + (at(y0, x1) - at(y0, x0)) * wx
                let bottom = at(y1, x0) + (at(y1, x1) - at(y1, x0)) * wx
                out[((b * oh + oy) * ow + ox) * c + ch] = top + (bottom - top) * wy
            }
        } } }
        return Values(shape: [n, oh, ow, c], scalars: out)
    }

    // MARK: - Activations

    static func activate(_ x: Values, _ a: Activation) -> Values {
        switch a {
        case .linear: return x
        case .softmax: return softmax(x, axis: x.shape.count - 2, log: false)
        case .logSoftmax: return softmax(x, axis: x.shape.count - 2, log: true)
        default: return map(x) { value($0, a) }
        }
    }

    /// Keras's activation formulas in double.
    static func value(_ v: Double, _ a: Activation) -> Double {
        switch a {
        case .linear: return v
        case .relu: return v > 0 ? v : (v.isNaN ? v : 0)
        case .relu6: return min(max(v, 0), 6)
        case .sigmoid: return 1 / (1 + Foundation.exp(-v))
        case .tanh: return Foundation.tanh(v)
        case .softplus: return max(v, 0) + Foundation.log1p(Foundation.exp(-abs(v)))
        case .softsign: return v / (1 + abs(v))
        case .elu: return v > 0 ? v : Foundation.expm1(v)
        case .selu: return v > 0 ? 1.0507009873554804934193349852946 * v
            : 1.0507009873554804934193349852946 * 1.6732632423543772848170429916717 * Foundation.expm1(v)
        case .gelu: return 0.5 * v * (1 + Foundation.erf(v / 2.0.squareRoot()))
        case .geluTanh: return 0.5 * v * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v)))
        case .swish, .silu: return v / (1 + Foundation.exp(-v))
        case .exponential: return Foundation.exp(v)
        case .hardSigmoid: return min(max(v + 3, 0), 6) / 6
        case .hardSigmoidKeras2: return min(max(0.2 * v + 0.5, 0), 1)
        case .hardSilu: return v * min(max(v + 3, 0), 6) / 6
        case .softmax, .logSoftmax: return v  // not element-wise: see activate
        }
    }

    /// Softmax (or log-softmax) over sample axis `axis` (0-based, batch excluded).
    static func softmax(_ x: Values, axis: Int, log: Bool) -> Values {
        let shape = x.sampleShape
        let length = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        var out = x.scalars
        for o in 0..<(x.count / (length * inner)) {
            for i in 0..<inner {
                let base = o * length * inner + i
                let m = (0..<length).map { out[base + $0 * inner] }.max() ?? 0
                let sum = (0..<length).reduce(0.0) { $0 + Foundation.exp(out[base + $1 * inner] - m) }
                for k in 0..<length {
                    let v = out[base + k * inner] - m
                    out[base + k * inner] = log ? v - Foundation.log(sum) : Foundation.exp(v) / sum
                }
            }
        }
        return Values(shape: x.shape, scalars: out)
    }
}
