import Foundation
@testable import ModelPortRuntime
import Testing

/// The intra-op pool with more helper threads than cores: every job finishes
/// and every part runs exactly once, within a time bound instead of hanging.
struct IntraOpPoolTests {
    @Test func moreHelpersThanCoresFinishEveryJob() throws {
        let helpers = RuntimeThreads.cores + 2
        let pool = IntraOpPool(helpers: helpers)
        let jobs = 300
        // Each part counts its own runs (one writer per slot).
        nonisolated(unsafe) let runs = UnsafeMutablePointer<Int>.allocate(capacity: helpers + 1)
        runs.initialize(repeating: 0, count: helpers + 1)
        defer { runs.deallocate() }
        let finished = DispatchSemaphore(value: 0)
        // On its own thread, so a lost wake-up fails the test instead of hanging it.
        let driver = Thread {
            for job in 0..<jobs {
                pool.run(parts: job % (helpers + 1) + 1) { part in runs[part] += 1 }
                // Long enough for the helpers to stop spinning and sleep, so
                // every job goes through the wake-up path.
                if job % 3 == 0 { usleep(1_000) }
            }
            finished.signal()
        }
        driver.start()
        try #require(finished.wait(timeout: .now() + 60) == .success,
                     "\(jobs) jobs on \(helpers) helpers (\(RuntimeThreads.cores) cores) did not finish in 60 s")
        for part in 0...helpers {
            let expected = (0..<jobs).filter { $0 % (helpers + 1) + 1 > part }.count
            #expect(runs[part] == expected, "part \(part) ran \(runs[part]) times, expected \(expected)")
        }
    }
}
