import ModelPortRuntime

// The weight-layout conversions between Keras (and the runtime) and ONNX,
// by name. Keras stores kernels with the spatial axes first and the output
// channels last; ONNX stores them output (or input, for ConvTranspose)
// channels first. Each conversion has its inverse beside it
// (Tests/ModelPortONNXTests/WeightLayoutTests.swift checks the pairs).

/// Keras `Conv2D` kernel `(kh, kw, in, out)` -> ONNX `Conv` weight `(out, in, kh, kw)`.
/// Also the `SeparableConv2D` pointwise kernel `(1, 1, in, out)`.
func onnxConvKernel(fromKeras k: Tensor) -> Tensor { permuted(k, [3, 2, 0, 1]) }

/// ONNX `Conv` weight `(out, in, kh, kw)` -> Keras `Conv2D` kernel `(kh, kw, in, out)`.
func kerasConvKernel(fromONNX w: Tensor) -> Tensor { permuted(w, [2, 3, 1, 0]) }

/// Keras `DepthwiseConv2D` kernel `(kh, kw, in, multiplier)` -> ONNX grouped
/// `Conv` weight `(in * multiplier, 1, kh, kw)` (group = in): output channel
/// `c * multiplier + m` is input channel `c`'s `m`-th filter, as in Keras.
func onnxDepthwiseKernel(fromKeras k: Tensor) -> Tensor {
    let (kh, kw, cin, dm) = (k.shape[0], k.shape[1], k.shape[2], k.shape[3])
    return Tensor(shape: [cin * dm, 1, kh, kw], scalars: permuteAxes(k.scalars, shape: k.shape, perm: [2, 3, 0, 1]))
}

/// ONNX grouped `Conv` weight `(in * multiplier, 1, kh, kw)` with `inputChannels`
/// groups -> Keras `DepthwiseConv2D` kernel `(kh, kw, in, multiplier)`.
func kerasDepthwiseKernel(fromONNX w: Tensor, inputChannels cin: Int) -> Tensor {
    let (kh, kw, dm) = (w.shape[2], w.shape[3], w.shape[0] / cin)
    return Tensor(shape: [kh, kw, cin, dm], scalars: permuteAxes(w.scalars, shape: [cin, dm, kh, kw], perm: [2, 3, 0, 1]))
}

/// Keras `Conv2DTranspose` kernel `(kh, kw, filters, in)` -> ONNX `ConvTranspose`
/// weight `(in, filters, kh, kw)`.
func onnxTransposedKernel(fromKeras k: Tensor) -> Tensor { permuted(k, [3, 2, 0, 1]) }

/// ONNX `ConvTranspose` weight `(in, filters, kh, kw)` -> Keras `Conv2DTranspose`
/// kernel `(kh, kw, filters, in)`.
func kerasTransposedKernel(fromONNX w: Tensor) -> Tensor { permuted(w, [2, 3, 1, 0]) }

/// Keras `Dense` kernel `(in, units)` -> ONNX `Gemm`/`MatMul` B: `(in, units)`,
/// or `(units, in)` when `transposed` (`Gemm` with `transB = 1`).
func onnxGemmKernel(fromKeras k: Tensor, transposed: Bool) -> Tensor { transposed ? permuted(k, [1, 0]) : k }

/// ONNX `Gemm`/`MatMul` B — `(in, units)`, or `(units, in)` when `transposed`
/// (`transB = 1`) -> Keras `Dense` kernel `(in, units)`.
func kerasDenseKernel(fromONNXGemm b: Tensor, transposed: Bool) -> Tensor { transposed ? permuted(b, [1, 0]) : b }

/// `t` with its axes reordered: output axis `i` is input axis `perm[i]`.
private func permuted(_ t: Tensor, _ perm: [Int]) -> Tensor {
    Tensor(shape: perm.map { t.shape[$0] }, scalars: permuteAxes(t.scalars, shape: t.shape, perm: perm))
}

