import Foundation

/// Keras's `ModelCheckpoint`: saves the model after every epoch, or only when
/// `monitor` improves (`saveBestOnly`), and — ModelPort's addition — after
/// an interrupted epoch, so Ctrl-C leaves a usable file.
///
/// The runtime knows no files: `save` writes the model to the path it is
/// given (`{epoch}` in the path replaced by the 1-based epoch), and is
/// expected to write atomically (ModelPortFiles' `AtomicFile`), so a crash
/// mid-write never leaves a broken checkpoint.
public final class ModelCheckpoint: TrainingCallback {
    public let path: String
    public let monitor: String
    public let mode: MonitorMode
    public let saveBestOnly: Bool
    public let save: (_ path: String) throws -> Void
    public private(set) var best: Double?
    /// Paths written so far, in order.
    public private(set) var written: [String] = []
    private var lastEpoch = -1

    public init(path: String, monitor: String = "val_loss", mode: MonitorMode = .auto, saveBestOnly: Bool = false,
                save: @escaping (_ path: String) throws -> Void) {
        self.path = path
        self.monitor = monitor
        self.mode = mode.resolved(for: monitor)
        self.saveBestOnly = saveBestOnly
        self.save = save
    }

    public func epochEnd(_ epoch: Int, logs: inout EpochLogs, trainer: Trainer) throws {
        lastEpoch = epoch
        if saveBestOnly {
            guard let current = logs[monitor] else {
                throw RuntimeError("ModelCheckpoint monitors '\(monitor)', which training does not log")
            }
            guard mode.isImprovement(current, over: best, minDelta: 0) else { return }
            best = current
        }
        try write(epoch: epoch + 1)
    }

    public func trainEnd(_ trainer: Trainer, interrupted: Bool) throws {
        if interrupted { try write(epoch: lastEpoch + 2) }
    }

    private func write(epoch: Int) throws {
        let target = path.replacingOccurrences(of: "{epoch}", with: String(epoch))
        try save(target)
        written.append(target)
    }
}
