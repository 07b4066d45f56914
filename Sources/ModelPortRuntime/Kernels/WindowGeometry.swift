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
        if padding == .valid {
            let effH = (kernel.0 - 1) * dilation.0 + 1
            let effW = (kernel.1 - 1) * dilation.1 + 1
            guard inHeight >= effH, inWidth >= effW else {
                throw RuntimeError("a \(effH)x\(effW) window does not fit a \(inHeight)x\(inWidth) input with 'valid' padding")
            }
        }
        self.init(fitting: inHeight, inWidth, kernel: kernel, strides: strides, dilation: dilation, padding: padding)
    }

    /// The geometry of a window already known to fit: one the throwing
    /// initializer accepted (the layers' forward and backward passes, whose
    /// sample shape `outputShape(for:)` validated). No checks.
    init(fitting inHeight: Int, _ inWidth: Int, kernel: (Int, Int), strides: (Int, Int),
         dilation: (Int, Int) = (1, 1), padding: Padding) {
        self.inHeight = inHeight; self.inWidth = inWidth
        self.kernelHeight = kernel.0; self.kernelWidth = kernel.1
        self.strideY = strides.0; self.strideX = strides.1
        self.dilationY = dilation.0; self.dilationX = dilation.1
        let effH = (kernel.0 - 1) * dilation.0 + 1
        let effW = (kernel.1 - 1) * dilation.1 + 1
        switch padding {
        case .valid:
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

    /// `convolution` or `pooling` for an NHWC sample `(h, w, c)` that one of
    /// them already accepted: no checks (see `init(fitting:)`).
    static func validated(_ inputShape: [Int], kernel: (Int, Int), strides: (Int, Int),
                          dilation: (Int, Int) = (1, 1), padding: Padding) -> WindowGeometry {
        WindowGeometry(fitting: inputShape[0], inputShape[1], kernel: kernel, strides: strides, dilation: dilation, padding: padding)
    }
}
