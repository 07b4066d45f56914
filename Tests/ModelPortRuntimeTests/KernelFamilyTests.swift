import Foundation
import ModelPortRuntime
import Testing
import TestSupport

/// What every kernel family this CPU runs (ModelPort's AVX2 and AVX-512
/// kernels, OpenBLAS) must agree on; the convolution cases in
/// ConvolutionTests run on each family too.
struct KernelFamilyTests {
    /// The x86-64 level ModelPort detects agrees with the kernel's own list
    /// of CPU flags (/proc/cpuinfo), an independent source.
    @Test func detectedLevelMatchesCPUFlags() throws {
        #if arch(x86_64) && os(Linux)
        let info = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flagsLine = try #require(info.split(separator: "\n").first { $0.hasPrefix("flags") })
        let flags = Set(flagsLine.split(separator: ":")[1].split(separator: " ").map(String.init))
        let v3 = ["avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "abm"].allSatisfy(flags.contains)
        let v4 = v3 && ["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"].allSatisfy(flags.contains)
        #expect(CPUKernels.cpuLevel == (v4 ? 4 : v3 ? 3 : 0))
        #expect(CPUKernels.supportedChoices == [.blas] + (v3 ? [.avx2] : []) + (v4 ? [.avx512] : []))
        if !v4 { #expect(throws: RuntimeError.self) { try CPUKernels.select(.avx512) } }
        #endif
    }

    /// Dense layers against their definition: one row (the one-row kernel),
    /// a few, many; unit counts that leave partial panels; the activations
    /// fused into the product (ReLU) and applied after it.
    @Test(arguments: CPUKernels.supportedChoices)
    func denseMatchesDefinition(_ choice: CPUKernels.Choice) throws {
        for (rows, inputs, units, activation) in [(1, 576, 64, Activation.relu), (3, 64, 10, .softmax), (7, 9, 70, .linear),
                                                  (100, 33, 17, .sigmoid), (2, 5, 1, .relu)] {
            let dense = Dense(name: "d", inputUnits: inputs, units: units, activation: activation)
            dense.kernel.value = randomTensor([inputs, units], seed: 40)
            dense.bias!.value = randomTensor([units], seed: 41)
            let x = randomTensor([rows, inputs], seed: 42)
            var expected = Tensor(zeros: [rows, units])
            for r in 0..<rows {
                for o in 0..<units {
                    var acc = Double(dense.bias!.value.scalars[o])
                    for i in 0..<inputs { acc += Double(x.scalars[r * inputs + i]) * Double(dense.kernel.value.scalars[i * units + o]) }
                    expected.scalars[r * units + o] = Float(acc)
                }
            }
            activation.apply(to: &expected)
            let y = try CPUKernels.with(choice) { dense.forward(x) }
            #expect(maxAbsDifference(y, expected) < 1e-5, "\(choice): \(rows)x\(inputs) -> \(units) \(activation)")
        }
    }

    /// Packed weights are remade when the weights change, kernel or bias
    /// alone (a fine-tuned model predicting in the same process).
    @Test(arguments: CPUKernels.supportedChoices)
    func changedWeightsAreRepacked(_ choice: CPUKernels.Choice) throws {
        let conv = Conv2D(name: "c", inputChannels: 32, filters: 32, kernelSize: (3, 3), activation: .relu)
        let dense = Dense(name: "d", inputUnits: 12, units: 20)
        let x = randomTensor([2, 9, 9, 32], seed: 50), v = randomTensor([3, 12], seed: 51)
        try CPUKernels.with(choice) {
            for step in 0..<3 {
                if step != 2 {
                    conv.kernel.value = scaledKernel(conv, seed: 52 + UInt64(step))
                    dense.kernel.value = randomTensor(dense.kernel.shape, seed: 54 + UInt64(step))
                }
                conv.bias!.value = randomTensor([32], seed: 56 + UInt64(step))
                dense.bias!.value = randomTensor([20], seed: 59 + UInt64(step))
                let pooled = conv.forwardReLUMaxPool2x2(x), plain = conv.forward(x), dy = dense.forward(v)
                let reference = try CPUKernels.with(.blas) {
                    (MaxPooling2D(name: "p").forward(conv.forward(x)), conv.forward(x), dense.forward(v))
                }
                #expect(maxAbsDifference(pooled, reference.0) < 1e-5, "\(choice), step \(step)")
                #expect(maxAbsDifference(plain, reference.1) < 1e-5, "\(choice), step \(step)")
                #expect(maxAbsDifference(dy, reference.2) < 1e-5, "\(choice), step \(step)")
            }
        }
    }

    /// Which algorithm runs: Winograd for wide 3x3 stride-1 convolutions,
    /// direct for the rest, im2col + sgemm through OpenBLAS.
    @Test func algorithmChoice() throws {
        let wide = Conv2D(name: "w", inputChannels: 32, filters: 64, kernelSize: (3, 3))
        let narrow = Conv2D(name: "n", inputChannels: 1, filters: 32, kernelSize: (3, 3))
        let strided = Conv2D(name: "s", inputChannels: 32, filters: 64, kernelSize: (3, 3), strides: (2, 2))
        for choice in CPUKernels.supportedChoices {
            let algorithms = try CPUKernels.with(choice) {
                [try wide.inferenceAlgorithm(inputShape: [13, 13, 32], pooled: true),
                 try wide.inferenceAlgorithm(inputShape: [13, 13, 32]),
                 // A 3x3 output: rounded up to 2x2 tiles, Winograd would save too little.
                 try wide.inferenceAlgorithm(inputShape: [5, 5, 32]),
                 try narrow.inferenceAlgorithm(inputShape: [28, 28, 1], pooled: true),
                 try strided.inferenceAlgorithm(inputShape: [13, 13, 32])]
            }
            let expected: [ConvolutionAlgorithm] = choice == .blas ? Array(repeating: .im2colSGEMM, count: 5)
                : [.winograd, .winograd, .direct, .direct, .direct]
            #expect(algorithms == expected, "\(choice)")
        }
    }

    /// A small CNN of the tutorial's shape, random weights: every family
    /// gives OpenBLAS's predictions within float rounding, for a batch and
    /// for one image split across the intra-op threads.
    @Test func familiesAgreeOnACNN() throws {
        let c1 = Conv2D(name: "c1", inputChannels: 1, filters: 32, kernelSize: (3, 3), activation: .relu)
        let c2 = Conv2D(name: "c2", inputChannels: 32, filters: 64, kernelSize: (3, 3), activation: .relu)
        let c3 = Conv2D(name: "c3", inputChannels: 64, filters: 64, kernelSize: (3, 3), activation: .relu)
        let d1 = Dense(name: "d1", inputUnits: 576, units: 64, activation: .relu)
        let d2 = Dense(name: "d2", inputUnits: 64, units: 10, activation: .softmax)
        for (i, p) in [c1.kernel, c1.bias!, c2.kernel, c2.bias!, c3.kernel, c3.bias!, d1.kernel, d1.bias!, d2.kernel, d2.bias!].enumerated() {
            p.value = randomTensor(p.shape, seed: 70 + UInt64(i))
            if p.name == "kernel" { p.value.scalars = p.value.scalars.map { $0 * 0.3 } }
        }
        let model = try Sequential(name: "cnn", inputShape: [28, 28, 1], layers: [
            c1, MaxPooling2D(name: "p1"), c2, MaxPooling2D(name: "p2"), c3, Flatten(name: "f"), d1, d2,
        ])
        let x = randomTensor([37, 28, 28, 1], seed: 80)
        let reference = try CPUKernels.with(.blas) { try model.predict(x) }
        for choice in CPUKernels.supportedChoices {
            let y = try CPUKernels.with(choice) { try model.predict(x) }
            #expect(maxAbsDifference(y, reference) < 1e-5, "\(choice)")
            let one = try CPUKernels.with(choice) { try model.predict(x.batch(5..<6)) }
            #expect(maxAbsDifference(one, reference.batch(5..<6)) < 1e-5, "\(choice), one image")
        }
    }
}

/// The vector exp behind sigmoid and swish (`ExpFunction`) against libm in
/// double precision, on every family: within 4 float ulps (or 1e-37 where
/// the result is that small), NaN and the infinities as the float formulas
/// give them, every tail length of a vector.
struct ExpActivationTests {
    @Test(arguments: CPUKernels.supportedChoices)
    func sigmoidAndSwishMatchLibm(_ choice: CPUKernels.Choice) throws {
        var inputs: [Float] = [0, -0, 1e-30, -1e-30, 1e-7, 0.5, -0.5, 87.3, 87.4, 88, 88.5, 88.8, 89, 100, 1e30,
                               -87.3, -87.4, -88, -88.5, -88.8, -89, -100, -1e30, .infinity, -.infinity, .nan,
                               .leastNonzeroMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude]
        var state: UInt64 = 7
        for _ in 0..<5000 {  // dense over [-20, 20], sparse out to ±100
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let u = Float(state >> 40) / Float(1 << 24)
            inputs.append(inputs.count % 5 == 0 ? 200 * u - 100 : 40 * u - 20)
        }
        for activation in [Activation.sigmoid, .swish, .silu] {
            for n in [inputs.count, 1, 7, 15, 17] {  // partial vectors at the end
                var x = Tensor(shape: [n], scalars: Array(inputs.prefix(n)))
                try CPUKernels.with(choice) { activation.apply(to: &x) }
                for (v, y) in zip(inputs.prefix(n), x.scalars) {
                    // The float formula with e^-v from double-precision libm (infinite where float's would be).
                    let d = Double(v)
                    let e = Double(Float(Foundation.exp(-d)))
                    let reference = Float(activation == .sigmoid ? 1 / (1 + e) : d / (1 + e))
                    if reference.isNaN || v.isNaN {
                        #expect(y.isNaN, "\(choice) \(activation)(\(v)) = \(y), want NaN")
                    } else if reference.isInfinite {
                        #expect(y == reference, "\(choice) \(activation)(\(v)) = \(y), libm \(reference)")
                    } else {
                        let error = abs(Double(y) - Double(reference))
                        #expect(error <= 4 * Double(reference.ulp) || error < 1e-37,
                                "\(choice) \(activation)(\(v)) = \(y), libm \(reference)")
                    }
                }
            }
        }
    }
}
