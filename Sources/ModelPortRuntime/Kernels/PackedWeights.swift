import ModelPortKernels
import Synchronization

/// A layer's weights in a kernel family's packed layout, owned.
final class PackedWeights: @unchecked Sendable {
    let panels: UnsafeMutablePointer<Float>
    let bias: UnsafeMutablePointer<Float>?
    /// Floats between the packed matrices (Winograd keeps 16).
    let matrixStride: Int
    let k: Int
    let columns: Int
    let panelWidth: Int

    /// Packs `matrices` consecutive row-major `[k, columns]` matrices from
    /// `source` (one for a plain layer, 16 for a Winograd kernel).
    init(_ source: UnsafePointer<Float>, matrices: Int, k: Int, columns: Int, bias: Parameter?, panelWidth: Int) {
        self.k = k
        self.columns = columns
        self.panelWidth = panelWidth
        matrixStride = PackedMatrix.packedCount(k: k, columns: columns, panelWidth: panelWidth)
        panels = .allocate(capacity: matrices * matrixStride)
        for m in 0..<matrices {
            PackedMatrix.pack(source + m * k * columns, k: k, columns: columns, panelWidth: panelWidth,
                              into: panels + m * matrixStride)
        }
        if let bias {
            let padded = UnsafeMutablePointer<Float>.allocate(capacity: PackedMatrix.panelCount(columns: columns, panelWidth: panelWidth) * panelWidth)
            bias.value.scalars.withUnsafeBufferPointer {
                PackedMatrix.packBias($0.baseAddress!, columns: columns, panelWidth: panelWidth, into: padded)
            }
            self.bias = padded
        } else {
            self.bias = nil
        }
    }

    deinit {
        panels.deallocate()
        bias?.deallocate()
    }

    /// The first (or only) packed matrix, with the bias.
    var matrix: PackedMatrix {
        PackedMatrix(panels: panels, bias: bias, k: k, columns: columns, panelWidth: panelWidth)
    }
}

/// One packed copy of a layer's weights, made on first use and remade when
/// the weights change (`Parameter.version`) or another kernel family is
/// selected; safe to share between threads.
final class PackedWeightsCache: Sendable {
    private struct Entry {
        let family: ObjectIdentifier
        let kernelVersion: UInt64
        let biasVersion: UInt64
        let weights: PackedWeights
    }
    private let entry = Mutex<Entry?>(nil)

    init() {}

    /// The cached packing for `family` and the current values of `kernel`
    /// and `bias`, or `make()`'s result, which is kept.
    func weights(for family: any KernelFamily.Type, kernel: Parameter, bias: Parameter?,
                 make: () -> PackedWeights) -> PackedWeights {
        let id = ObjectIdentifier(family)
        let (kv, bv) = (kernel.version, bias?.version ?? 0)
        let cached = entry.withLock { e -> PackedWeights? in
            guard let e, e.family == id, e.kernelVersion == kv, e.biasVersion == bv else { return nil }
            return e.weights
        }
        if let cached { return cached }
        let made = make()
        entry.withLock { $0 = Entry(family: id, kernelVersion: kv, biasVersion: bv, weights: made) }
        return made
    }
}
