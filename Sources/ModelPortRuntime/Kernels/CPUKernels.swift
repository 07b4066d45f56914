import CBLAS
import Foundation
import ModelPortKernels
import ModelPortKernelsAVX2
import ModelPortKernelsAVX512
import Synchronization

/// Which of ModelPort's compiled kernel families inference runs on.
///
/// Convolutions and dense layers — inference, and every matrix product of
/// training (`sgemm`) — run on ModelPort's own packed kernels
/// (ModelPortKernels, compiled for AVX2+FMA and for AVX-512) on CPUs that
/// have one of those instruction sets, and through OpenBLAS otherwise. The
/// choice is made once, from the CPU and the `MODELPORT_KERNELS`
/// environment variable:
///
/// - `auto` (default): the widest family the CPU supports, else OpenBLAS;
/// - `avx512`, `avx2`: that family if the CPU supports it (else `auto`'s choice);
/// - `blas`: OpenBLAS only (the portable path).
///
/// `select` changes the process's choice; `with` makes one for a scope.
public enum CPUKernels {
    public enum Choice: String, CaseIterable, Sendable {
        case auto, avx512, avx2, blas
    }

    /// The x86-64 level the CPU supports (4: AVX-512, 3: AVX2+FMA, 0: neither).
    public static let cpuLevel = Int(modelport_cpu_x86_level())

    /// Families by index: 0 OpenBLAS, 1 AVX2, 2 AVX-512.
    private static let families: [(any KernelFamily.Type)?] = [nil, AVX2Kernels.self, AVX512Kernels.self]
    private static let active = Atomic<Int>(initialIndex)

    private static var initialIndex: Int {
        let requested = ProcessInfo.processInfo.environment["MODELPORT_KERNELS"].flatMap { Choice(rawValue: $0.lowercased()) }
        return index(for: requested ?? .auto) ?? index(for: .auto)!
    }

    /// The family index for `choice`, or nil if this CPU cannot run it.
    private static func index(for choice: Choice) -> Int? {
        switch choice {
        case .auto: return cpuLevel >= 4 ? 2 : cpuLevel >= 3 ? 1 : 0
        case .avx512: return cpuLevel >= 4 ? 2 : nil
        case .avx2: return cpuLevel >= 3 ? 1 : nil
        case .blas: return 0
        }
    }

    /// A choice made by `with` for the calling thread or task (an index
    /// into `families`); `predict` carries it onto its worker threads.
    @TaskLocal static var scoped: Int?

    /// The family inference uses now on this thread; nil means OpenBLAS.
    public static var family: (any KernelFamily.Type)? { families[current] }

    /// The index of the family in force here: `with`'s, else the process's.
    static var current: Int { scoped ?? active.load(ordering: .relaxed) }

    /// Whether this CPU can run `choice`.
    public static func supports(_ choice: Choice) -> Bool { index(for: choice) != nil }

    /// Makes `choice` the process's default for every later inference (the
    /// CLI's `--kernels`); `with` overrides it locally.
    /// - Throws: `RuntimeError` if this CPU cannot run it.
    public static func select(_ choice: Choice) throws {
        active.store(try checkedIndex(choice), ordering: .relaxed)
    }

    private static func checkedIndex(_ choice: Choice) throws -> Int {
        guard let i = index(for: choice) else {
            throw RuntimeError("this CPU cannot run ModelPort's \(choice.rawValue) kernels (x86-64 level \(cpuLevel))")
        }
        return i
    }

    /// The current choice's name, e.g. "AVX2+FMA" or "OpenBLAS".
    public static var description: String { family?.name ?? "OpenBLAS" }

    /// Runs `body` with `choice` in force on this thread (and on the
    /// threads `predict` spreads its work over from here), not elsewhere:
    /// tests and benchmarks compare the families side by side.
    /// - Throws: `RuntimeError` if this CPU cannot run `choice`, or what `body` throws.
    public static func with<T>(_ choice: Choice, _ body: () throws -> T) throws -> T {
        try $scoped.withValue(try checkedIndex(choice)) { try body() }
    }

    /// The choices this CPU can run, each naming one family (no `auto`):
    /// what tests run every check on.
    public static var supportedChoices: [Choice] { [.blas, .avx2, .avx512].filter(supports) }
}
