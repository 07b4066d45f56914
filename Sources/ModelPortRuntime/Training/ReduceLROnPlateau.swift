/// Keras's `ReduceLROnPlateau`: multiply the learning rate by `factor`
/// (not below `minLR`) when `monitor` has not improved by more than
/// `minDelta` for `patience` epochs, then wait `cooldown` epochs. Logs
/// `learning_rate` every epoch, as Keras does.
public final class ReduceLROnPlateau: TrainingCallback {
    public let monitor: String
    public let factor: Double
    public let patience: Int
    public let mode: MonitorMode
    public let minDelta: Double
    public let cooldown: Int
    public let minLR: Double
    private var best: Double?
    private var wait = 0
    private var cooldownCounter = 0

    public init(monitor: String = "val_loss", factor: Double = 0.1, patience: Int = 10, mode: MonitorMode = .auto,
                minDelta: Double = 1e-4, cooldown: Int = 0, minLR: Double = 0) {
        precondition(factor < 1, "ReduceLROnPlateau does not support a factor >= 1")
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.mode = mode.resolved(for: monitor)
        self.minDelta = minDelta
        self.cooldown = cooldown
        self.minLR = minLR
    }

    public func trainBegin(_ trainer: Trainer) throws { best = nil; wait = 0; cooldownCounter = 0 }

    public func epochEnd(_ epoch: Int, logs: inout EpochLogs, trainer: Trainer) throws {
        logs["learning_rate"] = Double(trainer.optimizer.currentLearningRate)
        guard let current = logs[monitor] else {
            throw RuntimeError("ReduceLROnPlateau monitors '\(monitor)', which training does not log")
        }
        if cooldownCounter > 0 { cooldownCounter -= 1; wait = 0 }
        if mode.isImprovement(current, over: best, minDelta: minDelta) {
            best = current
            wait = 0
        } else if cooldownCounter == 0 {
            wait += 1
            if wait >= patience {
                guard case .constant(let old) = trainer.optimizer.learningRate else {
                    throw RuntimeError("ReduceLROnPlateau cannot change a learning-rate schedule; use a constant learning rate")
                }
                if old > Float(minLR) {
                    trainer.optimizer.learningRate = .constant(Float(max(Double(old) * factor, minLR)))
                    cooldownCounter = cooldown
                    wait = 0
                }
            }
        }
    }
}
