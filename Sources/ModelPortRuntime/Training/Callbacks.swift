/// Hooks into `Trainer.fit`, like Keras callbacks. Every method has an
/// empty default; a callback stops training by setting
/// `trainer.stopTraining`.
public protocol TrainingCallback: AnyObject {
    func trainBegin(_ trainer: Trainer) throws
    func epochBegin(_ epoch: Int, trainer: Trainer) throws
    /// After each optimizer step; `logs` are the epoch's running means.
    func batchEnd(_ batch: Int, of batches: Int, logs: EpochLogs, trainer: Trainer) throws
    /// `logs` may be extended (ReduceLROnPlateau adds `learning_rate`).
    func epochEnd(_ epoch: Int, logs: inout EpochLogs, trainer: Trainer) throws
    /// `interrupted` when stopped from outside mid-epoch (Ctrl-C).
    func trainEnd(_ trainer: Trainer, interrupted: Bool) throws
}

extension TrainingCallback {
    public func trainBegin(_ trainer: Trainer) throws {}
    public func epochBegin(_ epoch: Int, trainer: Trainer) throws {}
    public func batchEnd(_ batch: Int, of batches: Int, logs: EpochLogs, trainer: Trainer) throws {}
    public func epochEnd(_ epoch: Int, logs: inout EpochLogs, trainer: Trainer) throws {}
    public func trainEnd(_ trainer: Trainer, interrupted: Bool) throws {}
}

/// Which way a monitored metric improves.
public enum MonitorMode: String, Sendable {
    case auto, min, max

    /// Keras's "auto": accuracy-like names improve upwards, the rest downwards.
    func resolved(for monitor: String) -> MonitorMode {
        guard self == .auto else { return self }
        let metric = monitor.hasPrefix("val_") ? String(monitor.dropFirst(4)) : monitor
        return metric.contains("acc") || metric.contains("auc") ? .max : .min
    }

    /// Keras's `_is_improvement`: beats `reference` by more than `minDelta`
    /// (always true with no reference yet).
    func isImprovement(_ value: Double, over reference: Double?, minDelta: Double) -> Bool {
        guard let reference else { return true }
        switch self {
        case .max: return value - abs(minDelta) > reference
        default: return value + abs(minDelta) < reference
        }
    }
}

/// Copies of every parameter's values, to restore later.
func snapshotWeights(_ model: any Model) -> [Tensor] { model.layers.flatMap(\.parameters).map(\.value) }

func restoreWeights(_ model: any Model, _ weights: [Tensor]) {
    for (p, w) in zip(model.layers.flatMap(\.parameters), weights) { p.value = w }
}
