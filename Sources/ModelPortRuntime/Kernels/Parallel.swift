import Foundation

/// How many threads batch work is spread over (defaults to the core count).
public enum RuntimeThreads {
    nonisolated(unsafe) public static var count: Int = ProcessInfo.processInfo.activeProcessorCount
    /// The cores this process may run on.
    public static var cores: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
    /// The thread counts a command accepts: any of them works on any number of cores.
    public static let allowed = 1...256
}

/// Threads a single sample's layers may split their work over. `predict`
/// raises it for a batch of one (which batch parallelism cannot spread), so
/// single-image latency uses every core, as onnxruntime's intra-op threads do.
public enum IntraOp {
    @TaskLocal public static var threads: Int = 1
}

/// Splits `0..<total` into contiguous chunks of at most `maxChunk` and runs
/// `body` on them concurrently (on `RuntimeThreads.count` threads at most).
/// Chunks are fixed by the sizes alone, so results do not depend on timing.
func parallelChunks(total: Int, maxChunk: Int, _ body: @Sendable (Range<Int>) -> Void) {
    guard total > 0 else { return }
    let threads = max(1, RuntimeThreads.count)
    let chunk = max(1, min(maxChunk, (total + threads - 1) / threads))
    let chunks = (total + chunk - 1) / chunk
    if chunks == 1 || threads == 1 {
        var start = 0
        while start < total { body(start..<min(total, start + chunk)); start += chunk }
        return
    }
    DispatchQueue.concurrentPerform(iterations: chunks) { i in
        body((i * chunk)..<min(total, (i + 1) * chunk))
    }
}

/// Cache sizes of this machine, for sizing work chunks.
public enum CacheSizes {
    /// Per-core L2 cache in bytes (from sysconf; 1 MB when unknown).
    public static let level2: Int = {
        #if canImport(Glibc)
        let size = sysconf(Int32(_SC_LEVEL2_CACHE_SIZE))
        if size > 0 { return size }
        #endif
        return 1 << 20
    }()
}
