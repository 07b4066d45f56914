import Testing
import ModelPortRuntime
import TestSupport

/// The same seed and thread count give bit-identical weights: batches are
/// split into chunks fixed by the sizes alone and chunk gradients are summed
/// in chunk order; dropout masks depend on (seed, step, layer, sample).
@Suite struct DeterminismTests {
    /// A small CNN with dropout, trained for a few batches from a seed.
    func train(seed: UInt64, threads: Int) throws -> [Tensor] {
        let model = try Sequential(name: "det", inputShape: [8, 8, 1], layers: [
            Conv2D(name: "conv", inputChannels: 1, filters: 4, kernelSize: (3, 3), activation: .relu),
            MaxPooling2D(name: "pool"),
            Flatten(name: "flatten"),
            Dropout(name: "dropout", rate: 0.3),
            Dense(name: "dense", inputUnits: 36, units: 3, activation: .softmax),
        ])
        Initializers.initialize(model, seed: seed)
        let x = randomTensor([40, 8, 8, 1], seed: 1)
        let labels = (0..<40).map { Float($0 % 3) }
        let trainer = try Trainer(model: model, loss: .sparseCategoricalCrossentropy(), optimizer: .adam(), threads: threads)
        _ = try trainer.fit(x: x, y: Tensor(shape: [40], scalars: labels),
                            options: FitOptions(epochs: 2, batchSize: 8, seed: seed))
        return model.layers.flatMap(\.parameters).map(\.value)
    }

    @Test(arguments: CPUKernels.supportedChoices)
    func sameSeedAndThreadsGiveIdenticalWeights(_ choice: CPUKernels.Choice) throws {
        try CPUKernels.with(choice) {
            let first = try train(seed: 5, threads: 2)
            let second = try train(seed: 5, threads: 2)
            #expect(first == second)
            let other = try train(seed: 6, threads: 2)
            #expect(first != other)
        }
    }

    @Test func oneThreadIsDeterministicToo() throws {
        #expect(try train(seed: 5, threads: 1) == train(seed: 5, threads: 1))
    }

    @Test func threadSplitChangesOnlyRounding() throws {
        // Chunked gradients are the same sums in another order.
        let one = try train(seed: 5, threads: 1), two = try train(seed: 5, threads: 2)
        for (a, b) in zip(one, two) { #expect(maxAbsDifference(a, b) < 1e-4) }
    }
}
