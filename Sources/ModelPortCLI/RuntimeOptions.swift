import ArgumentParser
import ModelPortRuntime

/// Options of every command that runs a model: how many threads, and how much
/// memory its weights and activations may take.
struct RuntimeOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Threads to run on, \(RuntimeThreads.allowed.lowerBound)-\(RuntimeThreads.allowed.upperBound), whatever the core count (default: the core count, \(RuntimeThreads.cores) here). Training: the same seed and thread count give identical weights.",
        valueName: "n"))
    var threads: Int?

    @Option(help: ArgumentHelp(
        "Most memory the model's weights and activations may take, in bytes or with K, M, G, T (1024-based): 512M, 2G. Checked before anything is allocated. Default: the MODELPORT_MEMORY_LIMIT environment variable, else half of physical memory.",
        valueName: "size"))
    var memoryLimit: MemorySize?

    func validate() throws {
        if let threads, !RuntimeThreads.allowed.contains(threads) {
            throw ValidationError("--threads must be from \(RuntimeThreads.allowed.lowerBound) to \(RuntimeThreads.allowed.upperBound), got \(threads)")
        }
    }

    /// Sets the runtime's thread count and memory limit from the options.
    func apply() {
        if let threads { RuntimeThreads.count = threads }
        if let memoryLimit { MemoryBudget.limit = memoryLimit.bytes }
    }
}

/// A byte count written as `MemoryBudget.parse` reads it (`2G`, `512M`).
struct MemorySize: ExpressibleByArgument {
    let bytes: Int
    init?(argument: String) {
        guard let bytes = MemoryBudget.parse(argument) else { return nil }
        self.bytes = bytes
    }
    static var defaultCompletionKind: CompletionKind { .default }
}
