import ModelPortKernels

/// Fully connected layer on the last axis: `y = activation(x · kernel + bias)`,
/// with Keras's kernel layout `(inputs, units)`. Inputs of rank > 2 are
/// treated as a batch of rows, as Keras does.
public final class Dense: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "Dense" }
    public let units: Int
    public let activation: Activation
    public let kernel: Parameter
    public let bias: Parameter?
    /// The kernel packed for `CPUKernels.family`.
    let packed = PackedWeightsCache()

    public init(name: String, inputUnits: Int, units: Int, activation: Activation = .linear, useBias: Bool = true) {
        precondition(inputUnits > 0 && units > 0)
        self.name = name
        self.units = units
        self.activation = activation
        kernel = Parameter(name: "kernel", value: Tensor(zeros: [inputUnits, units]))
        bias = useBias ? Parameter(name: "bias", value: Tensor(zeros: [units])) : nil
    }

    public var inputUnits: Int { kernel.shape[0] }
    public var parameters: [Parameter] { [kernel] + (bias.map { [$0] } ?? []) }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard let last = inputShape.last, last == inputUnits else {
            throw RuntimeError("\(name) (Dense) expects a last axis of \(inputUnits), got input shape \(inputShape)")
        }
        return inputShape.dropLast() + [units]
    }

    /// Inference: on ModelPort's kernels when a family is selected
    /// (`CPUKernels`), else through OpenBLAS; ReLU fused either way.
    public func forward(_ input: Tensor) -> Tensor {
        let rows = input.count / inputUnits
        var output = Tensor(uninitialized: input.shape.dropLast() + [units])  // written in full below
        if let family = CPUKernels.family, rows > 0 {
            kernelForward(input, rows: rows, family: family, into: &output)
            return output
        }
        input.scalars.withUnsafeBufferPointer { x in
            kernel.value.scalars.withUnsafeBufferPointer { w in
                output.scalars.withUnsafeMutableBufferPointer { y in
                    affine(rows: rows, columns: units, k: inputUnits, a: x.baseAddress!, lda: inputUnits, weights: w.baseAddress!,
                           bias: bias, activation: activation, into: y.baseAddress!)
                }
            }
        }
        return output
    }
}

extension Dense {
    /// `x · kernel + bias` as a packed product (rows of `x` read in place),
    /// ReLU fused, other activations applied after.
    private func kernelForward(_ input: Tensor, rows: Int, family: any KernelFamily.Type, into output: inout Tensor) {
        let units = self.units
        let packed = self.packed.weights(for: family, kernel: kernel, bias: bias) {
            kernel.value.scalars.withUnsafeBufferPointer {
                PackedWeights($0.baseAddress!, matrices: 1, k: inputUnits, columns: units, bias: bias, panelWidth: family.panelWidth)
            }
        }
        input.scalars.withUnsafeBufferPointer { x in
            output.scalars.withUnsafeMutableBufferPointer { y in
                withUnsafeTemporaryAllocation(of: Segment.self, capacity: 1) { segment in
                    segment[0] = Segment(offset: 0, length: inputUnits)
                    let a = ImplicitMatrix(rows: x.baseAddress!, count: rows, stride: inputUnits, segments: UnsafeBufferPointer(segment))
                    family.multiply(a, rows: 0..<rows, by: packed.matrix,
                                    into: OutputRows(base: y.baseAddress!, rowStride: units, columns: units),
                                    relu: activation == .relu)
                }
            }
        }
        withExtendedLifetime(packed) {}
        if activation != .relu { activation.apply(to: &output) }
    }
}

// MARK: - Training

extension Dense: ActivatedLayer {
    /// What backward needs: the input (dKernel = xᵀ·dZ), the output and, for
    /// a non-linear activation, the pre-activation.
    public struct Cache: ActivatedCache {
        public let input: Tensor
        public let output: Tensor
        public let preActivation: Tensor?
    }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        let rows = input.count / inputUnits
        // Written in full by affine. Linear and ReLU are applied there; other
        // activations keep the pre-activation.
        let fused = !activation.keepsPreActivation
        var output = Tensor(uninitialized: input.shape.dropLast() + [units])
        input.scalars.withUnsafeBufferPointer { x in
            kernel.value.scalars.withUnsafeBufferPointer { w in
                output.scalars.withUnsafeMutableBufferPointer { y in
                    affine(rows: rows, columns: units, k: inputUnits, a: x.baseAddress!, lda: inputUnits, weights: w.baseAddress!,
                           bias: bias, activation: fused ? activation : .linear, into: y.baseAddress!)
                }
            }
        }
        if fused { return (output, Cache(input: input, output: output, preActivation: nil)) }
        let pre = output
        activation.apply(to: &output)
        return (output, Cache(input: input, output: output, preActivation: pre))
    }

    /// dKernel += xᵀ·dZ, dBias += column sums of dZ, dX = dZ·kernelᵀ.
    public func backward(preActivationGradient dz: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        accumulateParameterGradients(preActivationGradient: dz, cache: cache, gradients: gradients)
        let cache = cache as! Cache
        let rows = cache.input.count / inputUnits
        return affineInputGradient(dz, weights: kernel, inputShape: cache.input.shape, rows: rows, k: inputUnits, columns: units)
    }

    /// dKernel += xᵀ·dZ and dBias += column sums of dZ, without dX.
    public func accumulateParameterGradients(preActivationGradient dz: Tensor, cache: any LayerCache, gradients: Gradients) {
        let cache = cache as! Cache
        let rows = cache.input.count / inputUnits
        precondition(dz.count == rows * units, "\(name): gradient shape \(dz.shape)")
        cache.input.scalars.withUnsafeBufferPointer { x in
            accumulateAffineGradients(dz, rows: rows, columns: units, k: inputUnits, a: x.baseAddress!, lda: inputUnits,
                                      weights: kernel, bias: bias, into: gradients)
        }
    }
}
