import ModelPortKernels

/// Conv2D inference on ModelPort's own kernels (`CPUKernels.family`).
///
/// Two algorithms, both on kernel weights packed once per layer
/// (`PackedWeightsCache`, remade when the weights change):
/// - direct convolution as an implicit matrix product: each output pixel's
///   receptive field is read in place, one contiguous run per kernel row
///   (NHWC), by the register-blocked micro-kernel — no im2col matrix;
/// - Winograd F(2x2, 3x3) for 3x3, stride-1 convolutions wide enough to
///   pay for its transforms (2.25x fewer multiplications).
/// Padding is a zero-bordered copy of the input, made only when the window
/// leaves the image. A batch of one is split across the intra-op threads.
/// The algorithm inference uses for one convolution (raw value: the name
/// `bench --layers` prints).
public enum ConvolutionAlgorithm: String, Sendable, CaseIterable {
    /// Winograd F(2x2, 3x3) on ModelPort's kernels.
    case winograd
    /// Direct convolution as an implicit matrix product on ModelPort's kernels.
    case direct
    /// im2col, then OpenBLAS sgemm (no ModelPort kernel family on this CPU, or chosen).
    case im2colSGEMM = "im2col+sgemm"
}

extension Conv2D {
    /// Whether Winograd F(2x2, 3x3) runs this convolution: 3x3, stride 1, no
    /// dilation, channels and filters in whole vectors (at least two), and —
    /// unless every 2x2 output tile is needed anyway (`pooled`) — at most 0.6
    /// of the direct method's multiplications once tiles are rounded up.
    func usesWinograd(_ g: WindowGeometry, family: any KernelFamily.Type, pooled: Bool) -> Bool {
        let w = family.panelWidth / 2
        guard g.kernelHeight == 3, g.kernelWidth == 3, g.strideY == 1, g.strideX == 1,
              g.dilationY == 1, g.dilationX == 1, inputChannels % w == 0, filters % w == 0,
              inputChannels >= 2 * w, filters >= 2 * w else { return false }
        if pooled { return true }
        let tiles = ((g.outHeight + 1) / 2) * ((g.outWidth + 1) / 2)
        return 16 * tiles * 10 <= 6 * 9 * g.outHeight * g.outWidth
    }

    /// How inference computes this convolution on samples of `inputShape`
    /// with the current `CPUKernels` choice (followed by 2x2 max pooling
    /// when `pooled`).
    /// - Throws: `RuntimeError` when the layer does not accept `inputShape`.
    public func inferenceAlgorithm(inputShape: [Int], pooled: Bool = false) throws -> ConvolutionAlgorithm {
        let g = try geometry(for: inputShape)
        guard let family = CPUKernels.family else { return .im2colSGEMM }
        return usesWinograd(g, family: family, pooled: pooled) ? .winograd : .direct
    }

    /// `forward` on the kernels, with `activation` instead of the layer's.
    func kernelForward(_ input: Tensor, family: any KernelFamily.Type, activation: Activation) -> Tensor {
        let g = geometry(validated: input.sampleShape)
        let n = input.batchCount
        var output = Tensor(uninitialized: [n, g.outHeight, g.outWidth, filters])
        guard n > 0, g.outHeight > 0, g.outWidth > 0 else { return output }
        let relu = activation == .relu
        output.scalars.withUnsafeMutableBufferPointer { y in
            if usesWinograd(g, family: family, pooled: false) {
                winograd(input, geometry: g, family: family, pooled: false, relu: relu, into: y.baseAddress!)
            } else {
                direct(input, geometry: g, family: family, relu: relu, into: y.baseAddress!)
            }
        }
        if activation != .relu { activation.apply(to: &output) }
        return output
    }

    /// `MaxPooling2D(2x2, valid).forward(forward(input))` for a ReLU
    /// convolution, on the kernels.
    func kernelForwardReLUMaxPool2x2(_ input: Tensor, family: any KernelFamily.Type) -> Tensor {
        let g = geometry(validated: input.sampleShape)
        let n = input.batchCount
        let pooledHeight = g.outHeight / 2, pooledWidth = g.outWidth / 2
        var output = Tensor(uninitialized: [n, pooledHeight, pooledWidth, filters])
        guard n > 0, pooledHeight > 0, pooledWidth > 0 else { return output }
        output.scalars.withUnsafeMutableBufferPointer { y in
            if usesWinograd(g, family: family, pooled: true) {
                winograd(input, geometry: g, family: family, pooled: true, relu: true, into: y.baseAddress!)
            } else {
                directReLUMaxPool2x2(input, geometry: g, family: family, into: y.baseAddress!)
            }
        }
        return output
    }

    // MARK: - Direct

    private func directWeights(_ family: any KernelFamily.Type) -> PackedWeights {
        packedDirect.weights(for: family, kernel: kernel, bias: bias) {
            kernel.value.scalars.withUnsafeBufferPointer {
                PackedWeights($0.baseAddress!, matrices: 1, k: kernel.value.count / filters, columns: filters,
                              bias: bias, panelWidth: family.panelWidth)
            }
        }
    }

    /// Runs `body` with the segments of one output pixel's receptive field
    /// in an input whose rows are `rowStride` floats apart: one run per
    /// kernel row (`kw * channels` floats), or per tap when dilated.
    private func withSegments<R>(_ g: WindowGeometry, rowStride: Int, _ body: (UnsafeBufferPointer<Segment>) -> R) -> R {
        let c = inputChannels
        let perRow = g.dilationX == 1 ? 1 : g.kernelWidth
        return withUnsafeTemporaryAllocation(of: Segment.self, capacity: g.kernelHeight * perRow) { segments in
            var i = 0
            for ky in 0..<g.kernelHeight {
                for kx in 0..<perRow {
                    segments[i] = Segment(offset: ky * g.dilationY * rowStride + kx * g.dilationX * c,
                                          length: g.dilationX == 1 ? g.kernelWidth * c : c)
                    i += 1
                }
            }
            return body(UnsafeBufferPointer(segments))
        }
    }

    /// The implicit matrix of output pixels (window rows `rows` of each
    /// image, columns `0..<columns`) over padded images.
    private func pixels(_ x: PaddedImages, _ g: WindowGeometry, rows: Range<Int>, columns: Int,
                        segments: UnsafeBufferPointer<Segment>) -> ImplicitMatrix {
        ImplicitMatrix(base: x.base + rows.lowerBound * g.strideY * x.rowStride, height: rows.count, width: columns,
                       imageStride: x.imageStride, rowStride: g.strideY * x.rowStride,
                       columnStride: g.strideX * inputChannels, segments: segments)
    }

    private func direct(_ input: Tensor, geometry g: WindowGeometry, family: any KernelFamily.Type, relu: Bool,
                        into y: UnsafeMutablePointer<Float>) {
        let n = input.batchCount
        let packed = directWeights(family)
        let b = packed.matrix
        let filters = self.filters
        PaddedImages.with(input, channels: inputChannels, geometry: g) { x in
            withSegments(g, rowStride: x.rowStride) { segments in
                let a = pixels(x, g, rows: 0..<g.outHeight, columns: g.outWidth, segments: segments)
                let rows = n * g.outHeight * g.outWidth
                nonisolated(unsafe) let yp = y
                let parts = n == 1 ? min(IntraOp.threads, IntraOpPool.shared.helpers + 1, max(1, rows / 12)) : 1
                if parts > 1 {
                    // One image: contiguous runs of output pixels (whole six-row tiles) per thread.
                    let share = (rows + parts - 1) / parts
                    let step = (share + 5) / 6 * 6
                    IntraOpPool.shared.run(parts: parts) { part in
                        let range = min(rows, part * step)..<min(rows, (part + 1) * step)
                        family.multiply(a, rows: range, by: b,
                                        into: OutputRows(base: yp + range.lowerBound * filters, rowStride: filters, columns: filters),
                                        relu: relu)
                    }
                } else {
                    family.multiply(a, rows: 0..<rows, by: b, into: OutputRows(base: yp, rowStride: filters, columns: filters),
                                    relu: relu)
                }
                withExtendedLifetime(packed) {}
            }
        }
    }

    /// Direct convolution of the output pixels 2x2 pooling reads, in bands
    /// of pooled rows small enough to stay in L1, each pooled and rectified
    /// straight away (`max2x2`).
    private func directReLUMaxPool2x2(_ input: Tensor, geometry g: WindowGeometry, family: any KernelFamily.Type,
                                      into y: UnsafeMutablePointer<Float>) {
        let n = input.batchCount
        let pooledHeight = g.outHeight / 2, pooledWidth = g.outWidth / 2
        let packed = directWeights(family)
        let b = packed.matrix
        let filters = self.filters
        // Convolution outputs behind one pooled row: two rows of 2 * pooledWidth pixels.
        let pairPixels = 4 * pooledWidth
        let band = max(1, min(pooledHeight, (16 << 10) / (4 * pairPixels * filters)))
        PaddedImages.with(input, channels: inputChannels, geometry: g) { x in
            withSegments(g, rowStride: x.rowStride) { segments in
                nonisolated(unsafe) let yp = y
                /// Pooled rows `pooled` of image `image`, through `scratch` (`band * pairPixels * filters` floats).
                func run(image: Int, pooled: Range<Int>, scratch: UnsafeMutablePointer<Float>) {
                    var first = pooled.lowerBound
                    while first < pooled.upperBound {
                        let count = min(band, pooled.upperBound - first)
                        var a = pixels(x, g, rows: (2 * first)..<(2 * (first + count)), columns: 2 * pooledWidth, segments: segments)
                        a.base += image * x.imageStride
                        family.multiply(a, rows: 0..<(count * pairPixels), by: b,
                                        into: OutputRows(base: scratch, rowStride: filters, columns: filters), relu: false)
                        for r in 0..<count {
                            let top = UnsafePointer(scratch + r * pairPixels * filters)
                            let bottom = top + 2 * pooledWidth * filters
                            var dst = yp + ((image * pooledHeight) + first + r) * pooledWidth * filters
                            for px in 0..<pooledWidth {
                                let left = 2 * px * filters
                                max2x2(top + left, top + left + filters, bottom + left, bottom + left + filters,
                                       channels: filters, into: dst, rectified: true)
                                dst += filters
                            }
                        }
                        first += count
                    }
                }
                let parts = n == 1 ? min(IntraOp.threads, IntraOpPool.shared.helpers + 1, pooledHeight) : 1
                if parts > 1 {
                    let share = (pooledHeight + parts - 1) / parts
                    IntraOpPool.shared.run(parts: parts) { part in
                        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: band * pairPixels * filters)
                        defer { scratch.deallocate() }
                        run(image: 0, pooled: min(pooledHeight, part * share)..<min(pooledHeight, (part + 1) * share), scratch: scratch)
                    }
                } else {
                    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: band * pairPixels * filters)
                    defer { scratch.deallocate() }
                    for image in 0..<n { run(image: image, pooled: 0..<pooledHeight, scratch: scratch) }
                }
                withExtendedLifetime(packed) {}
            }
        }
    }

    // MARK: - Winograd

    private func winogradWeights(_ family: any KernelFamily.Type) -> PackedWeights {
        packedWinograd.weights(for: family, kernel: kernel, bias: bias) {
            let transformed = UnsafeMutablePointer<Float>.allocate(capacity: 16 * inputChannels * filters)
            defer { transformed.deallocate() }
            kernel.value.scalars.withUnsafeBufferPointer {
                WinogradKernel.transform($0.baseAddress!, channels: inputChannels, filters: filters, into: transformed)
            }
            return PackedWeights(transformed, matrices: 16, k: inputChannels, columns: filters, bias: bias,
                                 panelWidth: family.panelWidth)
        }
    }

    /// F(2x2, 3x3) over the batch: images in groups whose scratch fits in
    /// half the L2 cache; a single image's tile rows split across the
    /// intra-op threads. `pooled`: 2x2 max pool + ReLU, one output per tile.
    private func winograd(_ input: Tensor, geometry g: WindowGeometry, family: any KernelFamily.Type, pooled: Bool,
                          relu: Bool, into y: UnsafeMutablePointer<Float>) {
        let n = input.batchCount
        let c = inputChannels, f = filters
        let tilesY = pooled ? g.outHeight / 2 : (g.outHeight + 1) / 2
        let tilesX = pooled ? g.outWidth / 2 : (g.outWidth + 1) / 2
        let packed = winogradWeights(family)
        // Output geometry: pooled, one pixel per tile; else the convolution's.
        let outRows = pooled ? tilesY : g.outHeight, outColumns = pooled ? tilesX : g.outWidth
        let outImage = outRows * outColumns * f, outRow = outColumns * f
        PaddedImages.with(input, channels: c, geometry: g, rows: 2 * tilesY + 2, columns: 2 * tilesX + 2) { x in
            nonisolated(unsafe) let yp = y
            func problem(images: Range<Int>, tileRows: Range<Int>, scratch: UnsafeMutablePointer<Float>) -> WinogradProblem {
                WinogradProblem(
                    input: x.base + images.lowerBound * x.imageStride + 2 * tileRows.lowerBound * x.rowStride,
                    images: images.count, imageStride: x.imageStride, rowStride: x.rowStride, channels: c, filters: f,
                    tilesY: tileRows.count, tilesX: tilesX, weights: packed.panels, weightStride: packed.matrixStride,
                    bias: bias == nil ? nil : UnsafePointer(packed.bias),
                    output: yp + images.lowerBound * outImage + (pooled ? 1 : 2) * tileRows.lowerBound * outRow,
                    outputImageStride: outImage, outputRowStride: outRow,
                    outHeight: g.outHeight - 2 * tileRows.lowerBound, outWidth: g.outWidth,
                    pooled: pooled, relu: relu, scratch: scratch)
            }
            let perImage = WinogradProblem.scratchCount(images: 1, tilesY: tilesY, tilesX: tilesX, channels: c, filters: f)
            let parts = n == 1 ? min(IntraOp.threads, IntraOpPool.shared.helpers + 1, tilesY) : 1
            if parts > 1 {
                let share = (tilesY + parts - 1) / parts
                IntraOpPool.shared.run(parts: parts) { part in
                    let rows = min(tilesY, part * share)..<min(tilesY, (part + 1) * share)
                    guard !rows.isEmpty else { return }
                    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: perImage)
                    defer { scratch.deallocate() }
                    family.winograd(problem(images: 0..<1, tileRows: rows, scratch: scratch))
                }
            } else {
                let group = max(1, min(n, (CacheSizes.level2 / 2) / (4 * perImage)))
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: group * perImage)
                defer { scratch.deallocate() }
                var first = 0
                while first < n {
                    let images = first..<min(n, first + group)
                    family.winograd(problem(images: images, tileRows: 0..<tilesY, scratch: scratch))
                    first = images.upperBound
                }
            }
            withExtendedLifetime(packed) {}
        }
    }
}

/// NHWC images as the kernels read them: the input itself when every
/// window the kernels read lies inside it, else a copy with zero borders
/// (`padTop`/`padLeft` before, as many rows/columns after as needed).
struct PaddedImages {
    let base: UnsafePointer<Float>
    let imageStride: Int
    let rowStride: Int

    /// Runs `body` with images holding at least `rows` x `columns` pixels
    /// counted from `-padTop`, `-padLeft` (default: what `g`'s windows reach).
    static func with<R>(_ input: Tensor, channels c: Int, geometry g: WindowGeometry,
                        rows: Int? = nil, columns: Int? = nil, _ body: (PaddedImages) -> R) -> R {
        let rows = rows ?? (g.outHeight - 1) * g.strideY + (g.kernelHeight - 1) * g.dilationY + 1
        let columns = columns ?? (g.outWidth - 1) * g.strideX + (g.kernelWidth - 1) * g.dilationX + 1
        let n = input.batchCount
        return input.scalars.withUnsafeBufferPointer { x in
            if g.padTop == 0, g.padLeft == 0, rows <= g.inHeight, columns <= g.inWidth {
                return body(PaddedImages(base: x.baseAddress!, imageStride: g.inHeight * g.inWidth * c, rowStride: g.inWidth * c))
            }
            let copy = UnsafeMutablePointer<Float>.allocate(capacity: n * rows * columns * c)
            defer { copy.deallocate() }
            copy.update(repeating: 0, count: n * rows * columns * c)
            // Input column range that lands inside the copy.
            let firstColumn = max(0, -g.padLeft), lastColumn = min(g.inWidth, columns - g.padLeft)
            for image in 0..<n {
                for iy in max(0, -g.padTop)..<min(g.inHeight, rows - g.padTop) where lastColumn > firstColumn {
                    let src = x.baseAddress! + ((image * g.inHeight + iy) * g.inWidth + firstColumn) * c
                    let dst = copy + ((image * rows + iy + g.padTop) * columns + firstColumn + g.padLeft) * c
                    dst.update(from: src, count: (lastColumn - firstColumn) * c)
                }
            }
            return body(PaddedImages(base: copy, imageStride: rows * columns * c, rowStride: columns * c))
        }
    }
}
