/// A linear stack of layers, like Keras's `Sequential`.
public final class Sequential: Model, @unchecked Sendable {
    public let name: String
    public let layers: [any Layer]
    /// Output shape of each layer for one sample, parallel to `layers`.
    public let layerOutputShapes: [[Int]]
    public let inputShapes: [[Int]]
    public let outputShapes: [[Int]]
    /// The runtime stack keeps no input layer, so its one input is called
    /// "input" (a reference file's single input dataset matches it by position).
    public var inputNames: [String] { ["input"] }
    /// The last layer's name, as Keras's `model.output_names`.
    public var outputNames: [String] { [layers.last?.name ?? name] }
    public let largestActivation: Int

    /// Checks that every layer accepts its predecessor's output.
    /// - Parameter inputShape: one sample's shape, without the batch axis.
    /// - Throws: `RuntimeError` naming the first layer whose input does not fit,
    ///   or whose output has more elements than can be addressed.
    public init(name: String, inputShape: [Int], layers: [any Layer]) throws {
        self.name = name
        self.layers = layers
        guard (try? MemoryEstimate.elements(inputShape)) != nil else {
            throw RuntimeError("model '\(name)': input shape \(inputShape) has more elements than can be addressed")
        }
        var shape = inputShape
        var shapes: [[Int]] = []
        for layer in layers {
            do {
                shape = try layer.outputShape(for: shape)
            } catch let e as RuntimeError {
                throw RuntimeError("layer '\(layer.name)' (\(layer.typeName)): \(e.message)")
            }
            guard (try? MemoryEstimate.elements(shape)) != nil else {
                throw RuntimeError("layer '\(layer.name)' (\(layer.typeName)): output shape \(shape) has more elements than can be addressed")
            }
            shapes.append(shape)
        }
        inputShapes = [inputShape]
        outputShapes = [shape]
        layerOutputShapes = shapes
        // What forward materialises: a ReLU convolution fused with the 2x2
        // pooling after it only the pooled map (other poolings read the full one).
        var largest = inputShape.reduce(1, *)
        var i = 0
        while i < layers.count {
            if let (conv, pool) = Sequential.reluConvolutionAndPool(layers, at: i), conv.fusesWithMaxPool2x2(pool) {
                i += 1
            }
            largest = max(largest, shapes[i].reduce(1, *))
            i += 1
        }
        largestActivation = largest
    }

    /// Layers `i` and `i + 1` when `forward` runs them as one: a ReLU
    /// convolution followed by max pooling.
    static func reluConvolutionAndPool(_ layers: [any Layer], at i: Int) -> (Conv2D, MaxPooling2D)? {
        guard i + 1 < layers.count, let conv = layers[i] as? Conv2D, conv.activation == .relu,
              let pool = layers[i + 1] as? MaxPooling2D else { return nil }
        return (conv, pool)
    }

    public func forward(inputs: [Tensor]) -> [Tensor] {
        precondition(inputs.count == 1, "a Sequential model has one input")
        var x = inputs[0]
        var i = 0
        while i < layers.count {
            // Conv2D with ReLU, then max pooling: pool the linear output and
            // apply ReLU to the pooled map, a quarter of the size. Max and
            // ReLU commute exactly (NaN propagates through both), so the
            // result is identical, one pass over the full-size map cheaper.
            if let (conv, pool) = Sequential.reluConvolutionAndPool(layers, at: i) {
                if conv.fusesWithMaxPool2x2(pool) {
                    // The common 2x2 case: one kernel, no full-size map at all.
                    x = conv.forwardReLUMaxPool2x2(x)
                    i += 2
                    continue
                }
                var pooled = pool.forward(conv.inferenceForward(x, activation: .linear))
                Activation.relu.apply(to: &pooled)
                x = pooled
                i += 2
                continue
            }
            x = layers[i].forward(x)
            i += 1
        }
        return [x]
    }

    public func layerOutputs(inputs: [Tensor]) -> [(layer: String, output: Tensor)] {
        precondition(inputs.count == 1, "a Sequential model has one input")
        var x = inputs[0]
        return layers.map { x = $0.forward(x); return ($0.name, x) }
    }

    public var summary: [LayerSummary] {
        zip(layers, layerOutputShapes).map {
            LayerSummary(name: $0.name, typeName: $0.typeName, outputShape: $1, parameterCount: $0.parameterCount)
        }
    }
}
