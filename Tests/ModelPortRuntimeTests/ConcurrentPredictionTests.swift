import Foundation
import ModelPortRuntime
import Testing
import TestSupport

/// Many threads predicting on one loaded model at once get exactly what one
/// thread gets: the layers share weights (and their packed copies) but no
/// mutable state, and the intra-op pool serves one caller at a time.
struct ConcurrentPredictionTests {
    @Test func sixteenThreadsMatchOneThread() throws {
        let architecture = try #require(TutorialArchitecture.named("mnist_digit_model"))
        func make() -> Sequential {
            let model = architecture.makeModel()
            Initializers.initialize(model, seed: 7)
            return model
        }
        // The answers from one thread come from a twin, so the shared model
        // packs its weights for the kernels while the threads race.
        let model = make(), twin = make()
        let threads = 16, rounds = 20
        // Batches of 1 (the intra-op pool) and of 5 (chunks over threads).
        let inputs = (0..<rounds).map { randomTensor([$0 % 2 == 0 ? 1 : 5] + model.inputShape, seed: UInt64($0)) }
        let expected = try inputs.map { try twin.predict($0) }

        nonisolated(unsafe) var mismatches: [String] = []
        let lock = NSLock()
        let finished = DispatchGroup()
        for t in 0..<threads {
            finished.enter()
            let thread = Thread {
                defer { finished.leave() }
                for round in 0..<rounds {
                    let k = (round + t) % rounds
                    let got: Tensor
                    do { got = try model.predict(inputs[k]) } catch {
                        lock.withLock { mismatches.append("thread \(t), input \(k): \(error)") }
                        continue
                    }
                    if got.shape != expected[k].shape || got.scalars != expected[k].scalars {
                        lock.withLock { mismatches.append("thread \(t), input \(k): max difference \(maxAbsDifference(got, expected[k]))") }
                    }
                }
            }
            thread.start()
        }
        try #require(finished.wait(timeout: .now() + 120) == .success, "\(threads) threads x \(rounds) predictions did not finish in 120 s")
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }
}
