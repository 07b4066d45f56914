/// Geometry of a 2-D sliding window over an NHWC image, with Keras/TensorFlow
/// padding rules.
public struct WindowGeometry: Sendable, Equatable {
    public let inHeight, inWidth: Int
    public let kernelHeight, kernelWidth: Int
    public let strideY, strideX: Int
    public let dilationY, dilationX: Int
    public let outHeight, outWidth: Int
    /// Rows/columns of implicit padding before the image (TensorFlow puts the
    /// odd extra row/column of "same" padding after it).
    public let padTop, padLeft: Int

    public enum Padding: String, Sendable { case valid, same }

    /// - Throws: `RuntimeError` when the window does not fit the image.
    public init(inHeight: Int, inWidth: Int, kernel: (Int, Int), strides: (Int, Int),
                dilation: (Int, Int) = (1, 1), padding: Padding) throws {
        guard kernel.0 > 0, kernel.1 > 0, strides.0 > 0, strides.1 > 0, dilation.0 > 0, dilation.1 > 0 else {
            throw RuntimeError("kernel \(kernel), strides \(strides) and dilation \(dilation) must be positive")
        }
        self.inHeight = inHeight; self.inWidth = inWidth
        self.kernelHeight = kernel.0; self.kernelWidth = kernel.1
        self.strideY = strides.0; self.strideX = strides.1
        self.dilationY = dilation.0; self.dilationX = dilation.1
        let effH = (kernel.0 - 1) * dilation.0 + 1
        let effW = (kernel.1 - 1) * dilation.1 + 1
        switch padding {
        case .valid:
            guard inHeight >= effH, inWidth >= effW else {
                throw RuntimeError("a \(effH)x\(effW) window does not fit a \(inHeight)x\(inWidth) input with 'valid' padding")
            }
            outHeight = (inHeight - effH) / strides.0 + 1
            outWidth = (inWidth - effW) / strides.1 + 1
            padTop = 0; padLeft = 0
        case .same:
            outHeight = (inHeight + strides.0 - 1) / strides.0
            outWidth = (inWidth + strides.1 - 1) / strides.1
            padTop = max((outHeight - 1) * strides.0 + effH - inHeight, 0) / 2
            padLeft = max((outWidth - 1) * strides.1 + effW - inWidth, 0) / 2
        }
    }

    /// Length of one im2col row: every window element of every channel.
    func patchLength(channels: Int) -> Int { kernelHeight * kernelWidth * channels }
}

extension WindowGeometry {
    /// The window of a convolution with `channels` input channels over one
    /// NHWC sample `(h, w, channels)`.
    /// - Throws: `RuntimeError` for a sample of another rank or channel count,
    ///   or a window that does not fit.
    static func convolution(_ inputShape: [Int], channels: Int, kernel: (Int, Int), strides: (Int, Int),
                            dilation: (Int, Int), padding: Padding) throws -> WindowGeometry {
        guard inputShape.count == 3, inputShape[2] == channels else {
            throw RuntimeError("expects (height, width, \(channels)) input, got \(inputShape)")
        }
        return try WindowGeometry(inHeight: inputShape[0], inWidth: inputShape[1], kernel: kernel,
                                  strides: strides, dilation: dilation, padding: padding)
    }

    /// The window of a 2-D pooling layer over one NHWC sample `(h, w, c)`.
    /// - Throws: `RuntimeError` for a sample of another rank or a window that does not fit.
    static func pooling(_ inputShape: [Int], poolSize: (Int, Int), strides: (Int, Int),
                        padding: Padding) throws -> WindowGeometry {
        guard inputShape.count == 3 else {
            throw RuntimeError("expects (height, width, channels) input, got \(inputShape)")
        }
        return try WindowGeometry(inHeight: inputShape[0], inWidth: inputShape[1], kernel: poolSize,
                                  strides: strides, padding: padding)
    }
}

/// Unfolds `count` NHWC images into rows of the matrix
/// `[count * outHeight * outWidth, kernelHeight * kernelWidth * channels]`,
/// ordered (ky, kx, channel) to match a Keras kernel `(kh, kw, in, out)`
/// read as a `[kh * kw * in, out]` matrix. Padding positions are zero.
///
/// - Parameter outputRows: only these output rows of a single image
///   (`count` 1), written at their places in `out` (the rest untouched):
///   for splitting one image's convolution across threads.
func im2col(_ input: UnsafePointer<Float>, count: Int, channels: Int,
            geometry g: WindowGeometry, into out: UnsafeMutablePointer<Float>, outputRows: Range<Int>? = nil) {
    precondition(outputRows == nil || count == 1)
    let rowLength = g.patchLength(channels: channels)
    let imageSize = g.inHeight * g.inWidth * channels
    let windowRow = g.kernelWidth * channels
    let rows = outputRows ?? 0..<g.outHeight
    var row = out + rows.lowerBound * g.outWidth * rowLength
    for n in 0..<count {
        let image = input + n * imageSize
        for oy in rows {
            for ox in 0..<g.outWidth {
                var dst = row
                let x0 = ox * g.strideX - g.padLeft
                for ky in 0..<g.kernelHeight {
                    let iy = oy * g.strideY - g.padTop + ky * g.dilationY
                    if iy < 0 || iy >= g.inHeight {
                        dst.update(repeating: 0, count: windowRow)
                    } else if g.dilationX == 1 {
                        // The window's row is one contiguous run of the input
                        // between the left and right padding: copy it at once.
                        let first = max(0, x0), last = min(g.inWidth, x0 + g.kernelWidth)
                        let before = (first - x0) * channels
                        let inside = max(0, last - first) * channels
                        if before > 0 { dst.update(repeating: 0, count: before) }
                        if inside > 0 { (dst + before).update(from: image + (iy * g.inWidth + first) * channels, count: inside) }
                        let after = windowRow - before - inside
                        if after > 0 { (dst + before + inside).update(repeating: 0, count: after) }
                    } else {
                        for kx in 0..<g.kernelWidth {
                            let ix = x0 + kx * g.dilationX
                            if ix < 0 || ix >= g.inWidth {
                                (dst + kx * channels).update(repeating: 0, count: channels)
                            } else {
                                (dst + kx * channels).update(from: image + (iy * g.inWidth + ix) * channels, count: channels)
                            }
                        }
                    }
                    dst += windowRow
                }
                row += rowLength
            }
        }
    }
}

/// The adjoint of `im2col`: adds each row of the matrix
/// `[count * outHeight * outWidth, kernelHeight * kernelWidth * channels]`
/// back onto the NHWC image positions it was read from (padding positions
/// are dropped). Overlapping windows accumulate, so `images` must be zeroed
/// (or hold a gradient to add to) beforehand.
func col2im(_ columns: UnsafePointer<Float>, count: Int, channels: Int,
            geometry g: WindowGeometry, addingInto images: UnsafeMutablePointer<Float>) {
    let rowLength = g.patchLength(channels: channels)
    let imageSize = g.inHeight * g.inWidth * channels
    var row = columns
    for n in 0..<count {
        let image = images + n * imageSize
        for oy in 0..<g.outHeight {
            for ox in 0..<g.outWidth {
                var src = row
                for ky in 0..<g.kernelHeight {
                    let iy = oy * g.strideY - g.padTop + ky * g.dilationY
                    if iy < 0 || iy >= g.inHeight { src += g.kernelWidth * channels; continue }
                    for kx in 0..<g.kernelWidth {
                        let ix = ox * g.strideX - g.padLeft + kx * g.dilationX
                        if ix >= 0 && ix < g.inWidth {
                            let dst = image + (iy * g.inWidth + ix) * channels
                            for c in 0..<channels { dst[c] += src[c] }
                        }
                        src += channels
                    }
                }
                row += rowLength
            }
        }
    }
}

extension WindowGeometry {
    /// Whether `im2colTransposed` applies: one input channel, and output
    /// pixels along a row read consecutive input pixels (stride 1, no
    /// dilation across the width).
    func suitsTransposedColumns(channels: Int) -> Bool { channels == 1 && strideX == 1 && dilationX == 1 }

    /// For kernel column `kx` in the transposed layout: the offset from an
    /// output column to the input column it reads, and the output columns
    /// whose input column lies inside the image (the rest is padding).
    func transposedRun(kx: Int) -> (shift: Int, inside: Range<Int>) {
        let shift = kx * dilationX - padLeft
        let first = max(0, -shift), last = max(first, min(outWidth, inWidth - shift))
        return (shift, first..<last)
    }
}

/// The transpose of `im2col`'s matrix for single-channel images (see
/// `WindowGeometry.suitsTransposedColumns`): `[kh * kw, count * outH * outW]`,
/// row (ky, kx) holding the input pixel under that kernel tap for every
/// output pixel. Each output row's run is one contiguous piece of an input
/// row, so this is a copy per (tap, output row), where `im2col` would copy
/// `kw` floats per output pixel (a grayscale first layer's main cost).
/// Padding positions are zero.
/// - Parameter outputRows: as for `im2col`.
func im2colTransposed(_ input: UnsafePointer<Float>, count: Int, geometry g: WindowGeometry,
                      into out: UnsafeMutablePointer<Float>, outputRows: Range<Int>? = nil) {
    precondition(outputRows == nil || count == 1)
    let rows = outputRows ?? 0..<g.outHeight
    let pixels = g.outHeight * g.outWidth
    let total = count * pixels
    let imageSize = g.inHeight * g.inWidth
    for ky in 0..<g.kernelHeight {
        for kx in 0..<g.kernelWidth {
            let tap = out + (ky * g.kernelWidth + kx) * total
            let (shift, inside) = g.transposedRun(kx: kx)
            let first = inside.lowerBound, last = inside.upperBound
            for n in 0..<count {
                let image = input + n * imageSize
                for oy in rows {
                    let dst = tap + n * pixels + oy * g.outWidth
                    let iy = oy * g.strideY - g.padTop + ky * g.dilationY
                    guard iy >= 0 && iy < g.inHeight && first < last else {
                        dst.update(repeating: 0, count: g.outWidth)
                        continue
                    }
                    if first > 0 { dst.update(repeating: 0, count: first) }
                    (dst + first).update(from: image + iy * g.inWidth + first + shift, count: last - first)
                    if last < g.outWidth { (dst + last).update(repeating: 0, count: g.outWidth - last) }
                }
            }
        }
    }
}

/// The adjoint of `im2colTransposed`: adds every run back onto the image
/// row it was read from (padding dropped). `images` must be zeroed (or hold
/// a gradient to add to) beforehand.
func col2imTransposed(_ columns: UnsafePointer<Float>, count: Int, geometry g: WindowGeometry,
                      addingInto images: UnsafeMutablePointer<Float>) {
    let pixels = g.outHeight * g.outWidth
    let total = count * pixels
    let imageSize = g.inHeight * g.inWidth
    for ky in 0..<g.kernelHeight {
        for kx in 0..<g.kernelWidth {
            let tap = columns + (ky * g.kernelWidth + kx) * total
            let (shift, inside) = g.transposedRun(kx: kx)
            guard !inside.isEmpty else { continue }
            for n in 0..<count {
                let image = images + n * imageSize
                for oy in 0..<g.outHeight {
                    let iy = oy * g.strideY - g.padTop + ky * g.dilationY
                    guard iy >= 0 && iy < g.inHeight else { continue }
                    let src = tap + n * pixels + oy * g.outWidth
                    let dst = image + iy * g.inWidth + shift
                    for ox in inside { dst[ox] += src[ox] }
                }
            }
        }
    }
}
