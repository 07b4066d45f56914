/// A ReLU convolution followed by 2x2, stride-2, valid max pooling, fused
/// for inference (Sequential models run it when the two layers follow each
/// other).
///
/// The full-resolution feature map is never materialised: per image, each
/// pair of convolution output rows that one pooled row reads is multiplied
/// into a small buffer (it stays in L1), pooled and rectified straight into
/// the output. ReLU is applied after the maximum, on a quarter of the values
/// (max and ReLU commute exactly, NaN included). Convolution rows the pooling
/// never reads (the last one when the output height is odd) are not
/// computed at all: for the tutorial CNN's second convolution, 11 rows of
/// which pooling reads 10, that is 9% of its work.
extension Conv2D {
    /// Whether `forwardReLUMaxPool2x2` computes `pool.forward(forward(x))`.
    public func fusesWithMaxPool2x2(_ pool: MaxPooling2D) -> Bool {
        activation == .relu && pool.poolSize == (2, 2) && pool.strides == (2, 2) && pool.padding == .valid
    }

    /// `MaxPooling2D(2x2).forward(forward(input))` for a ReLU convolution:
    /// on ModelPort's kernels when a family is selected (`CPUKernels`,
    /// Conv2DKernels.swift), else through OpenBLAS as below.
    public func forwardReLUMaxPool2x2(_ input: Tensor) -> Tensor {
        if let family = CPUKernels.family { return kernelForwardReLUMaxPool2x2(input, family: family) }
        return blasForwardReLUMaxPool2x2(input)
    }

    func blasForwardReLUMaxPool2x2(_ input: Tensor) -> Tensor {
        let g = geometry(validated: input.sampleShape)
        let n = input.batchCount
        let pooledHeight = g.outHeight / 2, pooledWidth = g.outWidth / 2
        var output = Tensor(uninitialized: [n, pooledHeight, pooledWidth, filters])
        guard n > 0, pooledHeight > 0, pooledWidth > 0 else { return output }
        let patch = g.patchLength(channels: inputChannels)
        let direct = isDirect(g)
        let transposed = !direct && g.suitsTransposedColumns(channels: inputChannels)
        let pixels = g.outHeight * g.outWidth
        let imageSize = input.count / n
        let pairRows = 2 * g.outWidth  // convolution output rows (pixels) behind one pooled row
        let filters = self.filters
        let (bias, kernel) = (self.bias, self.kernel)
        // One image's column matrix (shared by the parts, which fill disjoint rows).
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: direct ? 0 : pixels * patch)
        defer { columns.deallocate() }

        input.scalars.withUnsafeBufferPointer { x in
            kernel.value.scalars.withUnsafeBufferPointer { w in
                output.scalars.withUnsafeMutableBufferPointer { y in
                    nonisolated(unsafe) let xp = x.baseAddress!, wp = w.baseAddress!, yp = y.baseAddress!
                    nonisolated(unsafe) let cols = columns
                    /// Pooled rows `pairs` of image `b`, with `scratch` for two convolution rows.
                    @Sendable func run(image b: Int, pairs: Range<Int>, scratch: UnsafeMutablePointer<Float>) {
                        guard !pairs.isEmpty else { return }
                        let image = xp + b * imageSize
                        let convRows = (2 * pairs.lowerBound)..<(2 * pairs.upperBound)
                        // Row r of the (unfolded) input matrix and its leading dimension.
                        let a: (Int) -> UnsafePointer<Float>
                        let lda: Int
                        if direct {
                            a = { UnsafePointer(image) + $0 * patch }; lda = patch
                        } else if transposed {
                            im2colTransposed(image, count: 1, geometry: g, into: cols, outputRows: convRows)
                            a = { UnsafePointer(cols) + $0 }; lda = pixels
                        } else {
                            im2col(image, count: 1, channels: inputChannels, geometry: g, into: cols, outputRows: convRows)
                            a = { UnsafePointer(cols) + $0 * patch }; lda = patch
                        }
                        for p in pairs {
                            affine(rows: pairRows, columns: filters, k: patch, a: a(2 * p * g.outWidth), lda: lda,
                                   transposedA: transposed, weights: wp, bias: bias, activation: .linear,
                                   into: scratch, unpackedBlocks: true)
                            let top = UnsafePointer(scratch), bottom = top + g.outWidth * filters
                            var dst = yp + (b * pooledHeight + p) * pooledWidth * filters
                            for px in 0..<pooledWidth {
                                let left = 2 * px * filters
                                max2x2(top + left, top + left + filters, bottom + left, bottom + left + filters,
                                       channels: filters, into: dst, rectified: true)
                                dst += filters
                            }
                        }
                    }

                    let parts = n == 1 ? min(IntraOp.threads, IntraOpPool.shared.helpers + 1, pooledHeight) : 1
                    if parts > 1 {
                        // One image: bands of pooled rows on the intra-op threads.
                        let band = (pooledHeight + parts - 1) / parts
                        IntraOpPool.shared.run(parts: parts) { part in
                            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: pairRows * filters)
                            defer { scratch.deallocate() }
                            run(image: 0, pairs: min(pooledHeight, part * band)..<min(pooledHeight, (part + 1) * band),
                                scratch: scratch)
                        }
                    } else {
                        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: pairRows * filters)
                        defer { scratch.deallocate() }
                        for b in 0..<n { run(image: b, pairs: 0..<pooledHeight, scratch: scratch) }
                    }
                }
            }
        }
        return output
    }
}
