/// The sliding window of a 2-D convolution layer (Conv2D, DepthwiseConv2D,
/// SeparableConv2D, grouped Conv2D): kernel size, strides, dilation and
/// padding, and the geometry they give an NHWC sample.
public protocol ConvolutionWindow {
    var name: String { get }
    var typeName: String { get }
    var kernelSize: (height: Int, width: Int) { get }
    var strides: (y: Int, x: Int) { get }
    var dilation: (y: Int, x: Int) { get }
    var padding: WindowGeometry.Padding { get }
    /// Channels the layer takes.
    var inputChannels: Int { get }
}

extension ConvolutionWindow {
    /// The window over one sample `(height, width, inputChannels)`.
    /// - Throws: `RuntimeError` naming the layer for a sample of another
    ///   shape or a window that does not fit.
    func geometry(for inputShape: [Int]) throws -> WindowGeometry {
        guard inputShape.count == 3, inputShape[2] == inputChannels else {
            throw RuntimeError("\(name) (\(typeName)) expects (height, width, \(inputChannels)) input, got \(inputShape)")
        }
        return try WindowGeometry(inHeight: inputShape[0], inWidth: inputShape[1], kernel: kernelSize,
                                  strides: strides, dilation: dilation, padding: padding)
    }

    /// The geometry of a sample shape `geometry(for:)` accepted (forward
    /// and backward passes: `outputShape(for:)` validated it). No checks.
    func geometry(validated inputShape: [Int]) -> WindowGeometry {
        .validated(inputShape, kernel: kernelSize, strides: strides, dilation: dilation, padding: padding)
    }
}
