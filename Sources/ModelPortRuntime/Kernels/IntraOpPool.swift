import Foundation
import Synchronization

/// A small fork-join pool that splits one sample's layer across the cores,
/// for single-image latency (batches are spread by `parallelChunks`).
///
/// Dispatch's worker wake-up costs tens of microseconds, more than the
/// tutorial CNN's whole forward pass, so — like onnxruntime's intra-op
/// threads — the helpers spin on an atomic generation counter for a short
/// while after each job and only then sleep on a semaphore. One caller at a
/// time: a concurrent caller runs its parts itself.
final class IntraOpPool: @unchecked Sendable {
    /// Helpers for `RuntimeThreads.count - 1` extra cores, started on first use.
    static let shared = IntraOpPool(helpers: max(0, RuntimeThreads.count - 1))

    let helpers: Int
    private let generation = Atomic<Int>(0)
    private let remaining = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    private let wake = DispatchSemaphore(value: 0)
    /// The current job; written before `generation` is bumped (release) and
    /// read by helpers after they see the bump (acquire).
    nonisolated(unsafe) private var job: ((Int) -> Void)?
    /// Spins (atomic loads) before a helper sleeps: a few tens of microseconds.
    private let spinLimit = 200_000

    private init(helpers: Int) {
        self.helpers = helpers
        for index in 0..<helpers {
            let thread = Thread { [unowned self] in self.helperLoop(part: index + 1) }
            thread.name = "modelport-intra-op-\(index + 1)"
            thread.qualityOfService = .userInitiated
            thread.start()
        }
    }

    /// Runs `body(part)` for every part in `0..<parts` (at most `helpers + 1`),
    /// part 0 on the calling thread, and returns when all have finished.
    func run(parts: Int, _ body: (Int) -> Void) {
        let parts = min(parts, helpers + 1)
        guard parts > 1, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for part in 0..<parts { body(part) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        withoutActuallyEscaping(body) { body in
            // Helpers beyond `parts` have nothing to do but still check in.
            job = { part in if part < parts { body(part) } }
            remaining.store(helpers, ordering: .relaxed)
            generation.add(1, ordering: .releasing)
            let asleep = sleepers.exchange(0, ordering: .acquiringAndReleasing)
            for _ in 0..<asleep { wake.signal() }
            body(0)
            while remaining.load(ordering: .acquiring) > 0 {}
            job = nil
        }
    }

    private func helperLoop(part: Int) {
        var seen = 0
        while true {
            var spins = 0
            var current = generation.load(ordering: .acquiring)
            while current == seen {
                spins += 1
                if spins >= spinLimit {
                    // Announce the sleep, re-check, then wait; a spurious
                    // wake-up just goes round again.
                    sleepers.add(1, ordering: .acquiringAndReleasing)
                    if generation.load(ordering: .acquiring) == seen { wake.wait() }
                    spins = 0
                }
                current = generation.load(ordering: .acquiring)
            }
            seen = current
            job?(part)
            remaining.subtract(1, ordering: .releasing)
        }
    }
}
