import Foundation

/// Keras's `ModelCheckpoint`: saves the model after every epoch, or only when
/// `monitor` improves (`saveBestOnly`), and — ModelPort's addition — after
/// an interrupted epoch, so Ctrl-C leaves a usable file.
///
/// The runtime knows no file formats: `save` writes the model to the path
/// it is given (a temporary name beside the target), and the checkpoint
/// renames it over the target, so a crash mid-write never leaves a broken
/// checkpoint. `{epoch}` in the path is replaced by the 1-based epoch.
public final class ModelCheckpoint: TrainingCallback {
    public let path: String
    public let monitor: String
    public let mode: MonitorMode
    public let saveBestOnly: Bool
    public let save: (_ temporaryPath: String) throws -> Void
    public private(set) var best: Double?
    /// Paths written so far, in order.
    public private(set) var written: [String] = []
    private var lastEpoch = -1

    public init(path: String, monitor: String = "val_loss", mode: MonitorMode = .auto, saveBestOnly: Bool = false,
                save: @escaping (_ temporaryPath: String) throws -> Void) {
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
        try atomicWrite(to: target, save)
        written.append(target)
    }
}

/// Writes a file through `write(temporaryPath)` beside `path`, then renames it
/// into place, so readers see the old file or the new one, never half of one.
/// - Throws: whatever `write` throws (the temporary file is removed), or a
///   `RuntimeError` naming the file when the rename fails.
public func atomicWrite(to path: String, _ write: (String) throws -> Void) throws {
    let url = URL(fileURLWithPath: path)
    let ext = url.pathExtension
    let temporary = url.deletingLastPathComponent()
        .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp" + (ext.isEmpty ? "" : ".\(ext)")).path
    do {
        try write(temporary)
    } catch {
        try? FileManager.default.removeItem(atPath: temporary)
        throw error
    }
    guard rename(temporary, path) == 0 else {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(atPath: temporary)
        throw RuntimeError("\(path): cannot move the written file into place: \(reason)")
    }
}
