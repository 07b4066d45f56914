/// Keras's `EarlyStopping`: stop when `monitor` has not improved by more
/// than `minDelta` for `patience` epochs (never at the first epoch); with
/// `restoreBestWeights`, put back the weights of the best epoch when
/// training ends (keras/src/callbacks/early_stopping.py).
public final class EarlyStopping: TrainingCallback {
    public let monitor: String
    public let minDelta: Double
    public let patience: Int
    public let mode: MonitorMode
    public let baseline: Double?
    public let restoreBestWeights: Bool
    public let startFromEpoch: Int
    public private(set) var best: Double?
    public private(set) var bestEpoch = 0
    /// Zero-based epoch at which training was stopped, or nil.
    public private(set) var stoppedEpoch: Int?
    private var wait = 0
    private var bestWeights: [Tensor]?

    public init(monitor: String = "val_loss", minDelta: Double = 0, patience: Int = 0, mode: MonitorMode = .auto,
                baseline: Double? = nil, restoreBestWeights: Bool = false, startFromEpoch: Int = 0) {
        self.monitor = monitor
        self.minDelta = minDelta
        self.patience = patience
        self.mode = mode.resolved(for: monitor)
        self.baseline = baseline
        self.restoreBestWeights = restoreBestWeights
        self.startFromEpoch = startFromEpoch
    }

    public func trainBegin(_ trainer: Trainer) throws {
        wait = 0; best = nil; bestWeights = nil; stoppedEpoch = nil; bestEpoch = 0
    }

    public func epochEnd(_ epoch: Int, logs: inout EpochLogs, trainer: Trainer) throws {
        guard let current = logs[monitor] else {
            throw RuntimeError("EarlyStopping monitors '\(monitor)', which training does not log (logged: \(logs.entries.map(\.0).joined(separator: ", ")))")
        }
        guard epoch >= startFromEpoch else { return }
        if restoreBestWeights && bestWeights == nil {
            bestWeights = snapshotWeights(trainer.model)
            bestEpoch = epoch
        }
        wait += 1
        if mode.isImprovement(current, over: best, minDelta: minDelta) {
            best = current
            bestEpoch = epoch
            if restoreBestWeights { bestWeights = snapshotWeights(trainer.model) }
            if baseline == nil || mode.isImprovement(current, over: baseline, minDelta: minDelta) { wait = 0 }
            return
        }
        if wait >= patience && epoch > 0 {
            stoppedEpoch = epoch
            trainer.stopTraining = true
        }
    }

    public func trainEnd(_ trainer: Trainer, interrupted: Bool) throws {
        if restoreBestWeights, let bestWeights { restoreWeights(trainer.model, bestWeights) }
    }
}
