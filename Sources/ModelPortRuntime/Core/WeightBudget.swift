/// The running total of weight bytes one model import has declared, checked
/// against a limit before each layer or constant allocates, so a tiny file
/// declaring many large layers is refused before memory is touched.
///
/// A value type: importers thread it through their layer factories, and a
/// nested model adds to its parent's total.
public struct WeightBudget: Sendable, Equatable {
    /// Bytes declared so far.
    public private(set) var used = 0
    /// The most `used` may reach (by default `MemoryBudget.limit`).
    public let limit: Int

    public init(limit: Int = MemoryBudget.limit) {
        self.limit = limit
    }

    /// Adds a tensor of `shape` to the total.
    /// - Parameter what: the tensor, for the message (`"the kernel"`).
    /// - Throws: `RuntimeError` when the size overflows or the total would pass
    ///   the limit; `used` is unchanged then.
    public mutating func reserve(_ shape: [Int], elementSize: Int = MemoryLayout<Float>.size, for what: String) throws {
        let total = try MemoryBudget.sum(used, MemoryBudget.bytes(ofShape: shape, elementSize: elementSize))
        guard total <= limit else {
            throw RuntimeError(
                "\(what) of shape \(shape) brings the model's weights to \(MemoryBudget.describe(total)), more than the memory limit of "
                    + "\(MemoryBudget.describe(limit)) (raise it with --memory-limit or MODELPORT_MEMORY_LIMIT)")
        }
        used = total
    }
}
