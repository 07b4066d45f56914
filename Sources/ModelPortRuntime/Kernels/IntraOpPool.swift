import Foundation
import Synchronization

/// A small fork-join pool that splits one sample's layer across the cores,
/// for single-image latency (batches are spread by `parallelChunks`).
///
/// Dispatch's worker wake-up costs tens of microseconds, more than the
/// tutorial CNN's whole forward pass, so — like onnxruntime's intra-op
/// threads — the helpers spin on an atomic counter for a short while after
/// each job and only then sleep. One caller at a time: a concurrent caller
/// runs its parts itself.
///
/// Every helper has its own mailbox (job counter, asleep flag, semaphore), and
/// a job is posted only to the helpers it has parts for. With one semaphore
/// shared by all helpers, a wake-up posted for a sleeping helper could be
/// taken by another that had already finished the job and gone back to sleep;
/// the sleeper then never ran its part and the caller waited for it forever
/// (`bench --threads 3` on two cores: the woken helper is not scheduled before
/// the other one finishes). Here a helper can only take its own wake-ups, and
/// each wake-up is posted only after clearing that helper's asleep flag, so
/// none is lost and none is left over.
final class IntraOpPool: @unchecked Sendable {
    /// Helpers for the requested threads, but no more than the cores allow:
    /// one sample split over more threads than cores only waits for them to
    /// be scheduled (batch work still uses every requested thread).
    static let shared = IntraOpPool(helpers: max(0, min(RuntimeThreads.count, RuntimeThreads.cores) - 1))

    /// One helper's mailbox.
    private final class Mailbox: @unchecked Sendable {
        /// Jobs posted to this helper so far.
        let posted = Atomic<Int>(0)
        /// Set by the helper before it sleeps; whoever clears it owns the wake-up.
        let asleep = Atomic<Bool>(false)
        let wake = DispatchSemaphore(value: 0)
    }

    let helpers: Int
    private let mailboxes: [Mailbox]
    private let remaining = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    /// The current job; written before a mailbox's `posted` is bumped and read
    /// by that helper after it sees the bump.
    nonisolated(unsafe) private var job: ((Int) -> Void)?
    /// Spins (atomic loads) before a helper sleeps, or the caller starts
    /// yielding its core: a few tens of microseconds.
    private let spinLimit = 200_000

    /// Starts `helpers` threads (tests make their own pools; the runtime uses `shared`).
    init(helpers: Int) {
        self.helpers = helpers
        mailboxes = (0..<helpers).map { _ in Mailbox() }
        for index in 0..<helpers {
            let mailbox = mailboxes[index]
            let thread = Thread { [unowned self] in self.helperLoop(part: index + 1, mailbox: mailbox) }
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
            for part in 0..<max(0, parts) { body(part) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        withoutActuallyEscaping(body) { body in
            job = body
            remaining.store(parts - 1, ordering: .relaxed)
            for mailbox in mailboxes.prefix(parts - 1) {
                // Sequentially consistent with the helper's "set asleep, re-read
                // posted": either it sees this job, or this sees it asleep.
                mailbox.posted.add(1, ordering: .sequentiallyConsistent)
                if mailbox.asleep.exchange(false, ordering: .sequentiallyConsistent) { mailbox.wake.signal() }
            }
            body(0)
            var spins = 0
            while remaining.load(ordering: .acquiring) > 0 {
                // With more threads than free cores, spinning would hold the
                // core a helper needs to finish.
                spins += 1
                if spins >= spinLimit { sched_yield() }
            }
            job = nil
        }
    }

    private func helperLoop(part: Int, mailbox: Mailbox) {
        var seen = 0
        while true {
            var spins = 0
            var current = mailbox.posted.load(ordering: .acquiring)
            while current == seen {
                spins += 1
                if spins >= spinLimit {
                    mailbox.asleep.store(true, ordering: .sequentiallyConsistent)
                    if mailbox.posted.load(ordering: .sequentiallyConsistent) == seen {
                        mailbox.wake.wait()
                    } else if !mailbox.asleep.exchange(false, ordering: .sequentiallyConsistent) {
                        // `run` cleared the flag first and signals: take that
                        // wake-up now so none is left for a later sleep.
                        mailbox.wake.wait()
                    }
                    spins = 0
                }
                current = mailbox.posted.load(ordering: .acquiring)
            }
            seen = current
            job?(part)
            remaining.subtract(1, ordering: .releasing)
        }
    }
}
