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
