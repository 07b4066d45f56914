import Foundation
import ModelPortRuntime

/// The one thread that runs models for the server. Predictions that arrive
/// while a batch runs are gathered into the next batch (one `predict` call per
/// model), and other model work (validation, conversion) runs between batches.
///
/// Why one thread: on a small machine a batch of N digits costs little more
/// than one digit, so gathering concurrent requests beats running them side by
/// side; and model execution stays off Swift's cooperative pool and the
/// event loops, which must keep answering while a batch runs.
public final class ComputeWorker: @unchecked Sendable {
    /// One waiting prediction: a sample for `model`, answered through `done`.
    private struct Job {
        let model: ObjectIdentifier
        let run: (any Model)
        let sample: [Float]
        let done: @Sendable (Result<[Float], any Error>) -> Void
    }

    private let condition = NSCondition()
    private var predictions: [Job] = []
    private var tasks: [() -> Void] = []
    private var stopped = false
    /// Largest batch run at once (bounds the activation memory of one batch).
    public let maxBatch: Int

    public init(maxBatch: Int = 64) {
        self.maxBatch = maxBatch
        // The thread keeps the worker alive until `stop()` lets its loop end.
        let thread = Thread { self.loop() }
        thread.name = "modelport-compute"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Stops the thread once the queued work is done.
    public func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    /// Runs `model` on one sample (its scalars, in the model's input shape),
    /// batched with whatever other samples are waiting.
    /// - Returns: the model's output scalars for this sample.
    public func predict(_ model: any Model, sample: [Float]) async throws -> [Float] {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[Float], any Error>) in
            enqueue(Job(model: ObjectIdentifier(model), run: model, sample: sample) { continuation.resume(with: $0) })
        }
    }

    /// Runs `body` on the compute thread, between batches.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            condition.lock()
            tasks.append { continuation.resume(with: Result { try body() }) }
            condition.signal()
            condition.unlock()
        }
    }

    private func enqueue(_ job: Job) {
        condition.lock()
        predictions.append(job)
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while predictions.isEmpty && tasks.isEmpty && !stopped { condition.wait() }
            if predictions.isEmpty && tasks.isEmpty && stopped {
                condition.unlock()
                return
            }
            let batch = Array(predictions.prefix(maxBatch))
            predictions.removeFirst(batch.count)
            let task = tasks.isEmpty ? nil : tasks.removeFirst()
            condition.unlock()
            if !batch.isEmpty { runBatch(batch) }
            task?()
        }
    }

    private func runBatch(_ jobs: [Job]) {
        var groups: [ObjectIdentifier: [Job]] = [:]
        var order: [ObjectIdentifier] = []
        for job in jobs {
            if groups[job.model] == nil { order.append(job.model) }
            groups[job.model, default: []].append(job)
        }
        for key in order {
            let group = groups[key]!
            let model = group[0].run
            let shape = [group.count] + model.inputShape
            let input = Tensor(shape: shape, scalars: group.flatMap(\.sample))
            do {
                let output = try model.predict(input)
                for (i, job) in group.enumerated() { job.done(.success(Array(output.sample(i)))) }
            } catch {
                for job in group { job.done(.failure(error)) }
            }
        }
    }
}
