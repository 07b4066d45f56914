import Foundation

/// Per-epoch metrics of a `fit`, like Keras's `History.history`: `loss`,
/// `accuracy`, then `val_loss`, `val_accuracy` when validating, and
/// `learning_rate` when a callback changes it; one value per finished epoch.
public struct History: Sendable, Equatable {
    /// Metric names in the order they were first logged.
    public private(set) var keys: [String] = []
    public private(set) var values: [String: [Double]] = [:]
    /// Zero-based epoch numbers that finished.
    public private(set) var epochs: [Int] = []
    /// True when training was stopped from outside (Ctrl-C) mid-epoch.
    public var interrupted = false

    public init() {}

    mutating func append(epoch: Int, logs: EpochLogs) {
        epochs.append(epoch)
        for (key, value) in logs.entries {
            if values[key] == nil { keys.append(key); values[key] = [] }
            values[key]!.append(value)
        }
    }

    /// The history as Keras's `history.history` dict in JSON, plus `epoch`.
    public var jsonText: String {
        var object: [String: Any] = ["epoch": epochs]
        // A diverged run's NaN or infinite loss is written as null (JSON has no NaN).
        for k in keys { object[k] = values[k]!.map { $0.isFinite ? $0 as Any : NSNull() } }
        if interrupted { object["interrupted"] = true }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]) else {
            preconditionFailure("history holds only numbers and null")
        }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// One row per epoch, like Keras's `CSVLogger`: `epoch,<metric>,...`.
    public var csvText: String {
        var lines = [(["epoch"] + keys).joined(separator: ",")]
        for (row, epoch) in epochs.enumerated() {
            lines.append(([String(epoch)] + keys.map { k in
                let column = values[k]!
                return row < column.count ? String(column[row]) : ""
            }).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Named metric values at the end of a batch or epoch, in logging order.
public struct EpochLogs: Sendable, Equatable {
    public var entries: [(String, Double)] = []
    public init(_ entries: [(String, Double)] = []) { self.entries = entries }
    public subscript(key: String) -> Double? {
        get { entries.first { $0.0 == key }?.1 }
        set {
            if let i = entries.firstIndex(where: { $0.0 == key }) {
                if let newValue { entries[i].1 = newValue } else { entries.remove(at: i) }
            } else if let newValue {
                entries.append((key, newValue))
            }
        }
    }
    public static func == (a: EpochLogs, b: EpochLogs) -> Bool {
        a.entries.map(\.0) == b.entries.map(\.0) && a.entries.map(\.1) == b.entries.map(\.1)
    }
}
