/// What a layer's training forward pass keeps for its backward pass.
///
/// Each layer kind declares its own cache type with named fields holding
/// exactly what its backward needs (llm.c style), not a generic tape.
public protocol LayerCache {}

/// A layer that can be trained: a training-mode forward pass that returns a
/// named cache, and a backward pass that turns the gradient of the loss with
/// respect to the output into the gradient with respect to the input.
///
/// `backward` *adds* the gradients of the layer's trainable parameters into
/// `gradients` (zeroing is the caller's explicit step), so one set of buffers
/// can collect a shared layer's contributions from several graph nodes.
/// Both calls are safe to run concurrently on different batch chunks with
/// different `Gradients`: layers keep no per-call state in themselves.
public protocol TrainableLayer: Layer {
    /// Forward pass in training (`context.training == true`: dropout active,
    /// batch statistics) or inference mode, keeping what `backward` needs.
    func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache)
    /// - Parameters:
    ///   - outputGradient: dLoss/dOutput, the shape of the forward output.
    ///   - cache: what `forward(_:context:)` returned for this input.
    ///   - gradients: parameter gradients are added here.
    /// - Returns: dLoss/dInput, the shape of the forward input.
    func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor
    /// True when the layer's training forward needs the whole batch at once
    /// (BatchNormalization's batch statistics), so batches are not split
    /// across threads.
    var needsWholeBatch: Bool { get }
}

extension TrainableLayer {
    public var needsWholeBatch: Bool { false }
}

/// A trainable layer with several inputs (Add, Concatenate, ...).
public protocol TrainableMergeLayer: MergeLayer, TrainableLayer {
    func forward(inputs: [Tensor], context: TrainingContext) -> (output: Tensor, cache: any LayerCache)
    /// - Returns: dLoss/dInput for each input, in input order.
    func backward(inputsGradient outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> [Tensor]
}

extension TrainableMergeLayer {
    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        forward(inputs: [input], context: context)
    }
    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        backward(inputsGradient: outputGradient, cache: cache, gradients: gradients)[0]
    }
}

/// A layer whose output is `activation(preActivation)` (Dense, Conv2D,
/// Activation). Losses on a softmax or sigmoid output work from the
/// pre-activation logits, as Keras's TensorFlow backend does (it finds the
/// logits behind a softmax/sigmoid output and never clips them).
public protocol ActivatedLayer: TrainableLayer {
    var activation: Activation { get }
    /// The pre-activation values of a forward pass (same shape as the output).
    func preActivation(cache: any LayerCache) -> Tensor
    /// Backward from dLoss/dPreActivation, skipping the activation.
    func backward(preActivationGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor
    /// Like `backward(preActivationGradient:cache:gradients:)` but only adds
    /// the parameter gradients: for a layer fed by the model's input, whose
    /// input gradient nobody uses. Layers override it when skipping dInput
    /// saves work (Conv2D: a GEMM and a col2im).
    func accumulateParameterGradients(preActivationGradient: Tensor, cache: any LayerCache, gradients: Gradients)
}

extension ActivatedLayer {
    public func accumulateParameterGradients(preActivationGradient: Tensor, cache: any LayerCache, gradients: Gradients) {
        _ = backward(preActivationGradient: preActivationGradient, cache: cache, gradients: gradients)
    }
}

extension ActivatedLayer {
    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        backward(preActivationGradient: preActivationGradient(outputGradient, cache: cache), cache: cache, gradients: gradients)
    }

    /// dLoss/dPreActivation from dLoss/dOutput, through the activation.
    func preActivationGradient(_ outputGradient: Tensor, cache: any LayerCache) -> Tensor {
        let preActivation = activation.derivativeNeedsInput ? self.preActivation(cache: cache) : nil
        return activation.backward(outputGradient, output: activationOutput(cache: cache), input: preActivation)
    }
}

/// Caches of activated layers expose the forward output (what most
/// activation derivatives are written in terms of) and the pre-activation.
public protocol ActivatedCache: LayerCache {
    var output: Tensor { get }
    /// Kept only when the activation needs it (see `keepsPreActivation`).
    var preActivation: Tensor? { get }
}

extension ActivatedLayer {
    func activationOutput(cache: any LayerCache) -> Tensor { (cache as! any ActivatedCache).output }
    public func preActivation(cache: any LayerCache) -> Tensor {
        let c = cache as! any ActivatedCache
        return c.preActivation ?? c.output
    }
}

extension Activation {
    /// Whether a training forward keeps the pre-activation beside the output:
    /// for derivatives written in terms of it, and for softmax/sigmoid-like
    /// outputs whose logits a loss may ask for. Linear and ReLU layers skip
    /// the copy (ReLU's derivative needs only the output).
    var keepsPreActivation: Bool { self != .linear && self != .relu }
}
