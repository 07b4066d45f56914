import Foundation

/// Keras-like training output. On a terminal: a progress bar redrawn in
/// place with steps, ETA and the running loss/accuracy, then the epoch's
/// summary line. Otherwise (a pipe or a log file): one plain line per epoch,
/// like Keras's `verbose=2`.
public final class ProgressLogger: TrainingCallback {
    public let interactive: Bool
    private let write: (String) -> Void
    private var epochs = 0
    private var epochStart = Date()
    private var lastDraw = Date.distantPast
    private var batches = 0

    /// - Parameters:
    ///   - epochs: total epochs, for "Epoch 3/10".
    ///   - interactive: draw a bar; defaults to whether standard output is a terminal.
    ///   - write: where text goes (default: standard output, flushed).
    public init(epochs: Int, interactive: Bool? = nil, write: ((String) -> Void)? = nil) {
        self.epochs = epochs
        self.interactive = interactive ?? (isatty(STDOUT_FILENO) != 0)
        self.write = write ?? { FileHandle.standardOutput.write(Data($0.utf8)) }
    }

    public func epochBegin(_ epoch: Int, trainer: Trainer) throws {
        epochStart = Date()
        lastDraw = .distantPast
        write("Epoch \(epoch + 1)/\(epochs)\n")
    }

    public func batchEnd(_ batch: Int, of batches: Int, logs: EpochLogs, trainer: Trainer) throws {
        self.batches = batches
        guard interactive else { return }
        let now = Date()
        guard batch + 1 == batches || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(epochStart)
        let eta = elapsed / Double(batch + 1) * Double(batches - batch - 1)
        let width = 30
        let done = width * (batch + 1) / batches
        let bar = String(repeating: "=", count: max(0, done - 1)) + (done == width ? "=" : ">")
            + String(repeating: ".", count: width - done)
        let steps = String(batch + 1).leftPadded(to: String(batches).count)
        write("\r\(steps)/\(batches) [\(bar)] - ETA: \(Self.duration(eta)) - \(Self.format(logs))\u{1B}[K")
    }

    public func epochEnd(_ epoch: Int, logs: inout EpochLogs, trainer: Trainer) throws {
        let elapsed = Date().timeIntervalSince(epochStart)
        let perStep = batches > 0 ? elapsed / Double(batches) : 0
        let timing = "\(Self.duration(elapsed)) - \(Int((perStep * 1000).rounded()))ms/step"
        if interactive {
            write("\r\(batches)/\(batches) [\(String(repeating: "=", count: 30))] - \(timing) - \(Self.format(logs))\u{1B}[K\n")
        } else {
            write("\(batches)/\(batches) - \(timing) - \(Self.format(logs))\n")
        }
    }

    public func trainEnd(_ trainer: Trainer, interrupted: Bool) throws {
        if interrupted { write((interactive ? "\n" : "") + "Interrupted: stopped after the current batch.\n") }
    }

    static func format(_ logs: EpochLogs) -> String {
        logs.entries.map { "\($0.0): \(String(format: $0.0 == "learning_rate" ? "%.4g" : "%.4f", $0.1))" }.joined(separator: " - ")
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m" : (s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s")
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
