import Foundation
import ModelPortRuntime
import Testing
import TestSupport

/// What running a model needs is known, and refused, before allocating it.
struct MemoryEstimateTests {
    /// The estimate grows with the batch, and sizes that overflow are errors, not traps.
    @Test func estimateOverflowThrows() throws {
        let model = try #require(TutorialArchitecture.named("mnist_digit_model")).makeModel()
        let small = try MemoryEstimate.inferenceBytes(model, batch: 1, threads: 1)
        let larger = try MemoryEstimate.inferenceBytes(model, batch: 1000, threads: 1)
        #expect(small > 0 && larger > small)
        #expect(throws: RuntimeError.self) { try MemoryEstimate.inferenceBytes(model, batch: Int.max / 2, threads: 1) }
    }
}

/// Shapes whose element count overflows are refused when the model is built,
/// instead of trapping wherever the count is first taken.
struct ModelShapeOverflowTests {
    @Test func sequentialRefusesUnaddressableShapes() throws {
        let huge = 1 << 40
        #expect(throws: RuntimeError.self) {
            try Sequential(name: "huge", inputShape: [huge, huge, 1], layers: [Dense(name: "dense", inputUnits: 1, units: 2)])
        }
        // An addressable input, but an output of 2^41 x 2^41 elements.
        #expect(throws: RuntimeError.self) {
            try Sequential(name: "huge", inputShape: [huge * 2], layers: [RepeatVector(name: "repeat", count: huge * 2)])
        }
    }
}

/// `predict` itself checks the memory a batch needs before allocating it, for
/// callers other than the commands (a server).
struct PredictMemoryCheckTests {
    @Test func predictRefusesWhatCannotFit() throws {
        // A small input repeated 2^40 times: petabytes of output from a few kilobytes.
        let model = try Sequential(name: "repeater", inputShape: [256], layers: [RepeatVector(name: "repeat", count: 1 << 40)])
        let input = Tensor(shape: [1, 256], scalars: [Float](repeating: 1, count: 256))
        #expect {
            _ = try model.predict(input)
        } throws: { error in
            "\(error)".contains("model 'repeater' on a batch of 1 would need") && "\(error)".contains("more than the memory limit")
        }
    }
}
