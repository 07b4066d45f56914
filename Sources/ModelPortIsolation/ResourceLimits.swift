import Foundation

/// What a process that parses an untrusted file may use. The child applies
/// them to itself (`apply()`) before it opens the file; the parent enforces
/// the wall time by killing it.
public struct ResourceLimits: Sendable, Equatable {
    /// Address space (`RLIMIT_AS`), bytes.
    public var memoryBytes: Int
    /// CPU time (`RLIMIT_CPU`), seconds.
    public var cpuSeconds: Int
    /// Wall time before the parent kills the child, seconds.
    public var wallSeconds: Double
    /// Largest file the child may write (`RLIMIT_FSIZE`), bytes.
    public var fileBytes: Int

    public init(memoryBytes: Int, cpuSeconds: Int, wallSeconds: Double, fileBytes: Int) {
        self.memoryBytes = memoryBytes
        self.cpuSeconds = cpuSeconds
        self.wallSeconds = wallSeconds
        self.fileBytes = fileBytes
    }

    /// 4 GB of address space (a model of up to about 1 GB of weights with
    /// room for the runtime's threads), 60 s of CPU, 120 s of wall time,
    /// files up to 4 GB; `MODELPORT_UNTRUSTED_MEMORY` (`2G`, `512M`) and
    /// `MODELPORT_UNTRUSTED_SECONDS` (wall time; CPU time is half of it) override.
    public static var `default`: ResourceLimits {
        let environment = ProcessInfo.processInfo.environment
        var limits = ResourceLimits(memoryBytes: 4 << 30, cpuSeconds: 60, wallSeconds: 120, fileBytes: 4 << 30)
        if let text = environment["MODELPORT_UNTRUSTED_MEMORY"], let bytes = parseBytes(text) { limits.memoryBytes = bytes }
        if let text = environment["MODELPORT_UNTRUSTED_SECONDS"], let seconds = Double(text), seconds > 0, seconds < 1e6 {
            limits.wallSeconds = seconds
            limits.cpuSeconds = max(1, Int(seconds / 2))
        }
        return limits
    }

    /// Applies the limits to this process, and turns core dumps off. A limit
    /// already lower (set by whoever started ModelPort) is kept: a process
    /// can lower its limits, never raise them.
    /// - Throws: `IsolationError` when the system refuses one.
    public func apply() throws {
        func set(_ resource: Int32, _ value: Int, _ name: String) throws {
            let which = __rlimit_resource_t(UInt32(resource))
            var current = rlimit()
            getrlimit(which, &current)
            let wanted = min(rlim_t(value), current.rlim_max)
            var limit = rlimit(rlim_cur: wanted, rlim_max: wanted)
            guard setrlimit(which, &limit) == 0 else {
                throw IsolationError("cannot limit \(name) of the isolated process: \(String(cString: strerror(errno)))")
            }
        }
        try set(Int32(RLIMIT_CORE.rawValue), 0, "core dumps")
        try set(Int32(RLIMIT_AS.rawValue), memoryBytes, "the memory")
        try set(Int32(RLIMIT_CPU.rawValue), cpuSeconds, "the CPU time")
        try set(Int32(RLIMIT_FSIZE.rawValue), fileBytes, "the file size")
    }

    /// As an environment value for the child: `memory,cpu,wall,file`.
    var encoded: String { "\(memoryBytes),\(cpuSeconds),\(wallSeconds),\(fileBytes)" }

    init?(encoded: String) {
        let parts = encoded.split(separator: ",").map(String.init)
        guard parts.count == 4, let memory = Int(parts[0]), let cpu = Int(parts[1]), let wall = Double(parts[2]),
              let file = Int(parts[3]) else { return nil }
        self.init(memoryBytes: memory, cpuSeconds: cpu, wallSeconds: wall, fileBytes: file)
    }

    /// Bytes from `4096`, `512M`, `2G` (powers of 1024).
    static func parseBytes(_ text: String) -> Int? {
        let scales: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        var digits = text.uppercased()
        var scale = 1
        if let last = digits.last, let factor = scales[last] { scale = factor; digits.removeLast() }
        guard let value = Int(digits), value > 0 else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: scale)
        return overflow ? nil : bytes
    }
}

/// An isolated process could not be run, or its file could not be read there.
public struct IsolationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
