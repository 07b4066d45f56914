import ModelPortKernels

// The generic kernels instantiated here, in a module built for the baseline
// CPU, at two widths no family uses: 4 lanes (SIMD4, 8-column panels) and 16
// lanes through a vector type of this module's own (`Lanes16`, the AVX-512
// family's width, 32-column panels). Their specialisations cannot be merged
// by the linker with the families' (which are compiled for other CPUs), and
// the 16-lane logic is checked on every machine, AVX-512 or not.

extension SIMD4: KernelVector where Scalar == Float {
    public static func rectified(_ v: Self) -> Self { v.replacing(with: 0, where: v .<= 0) }
    public static func pick(_ v: Self, over d: Self) -> Self { d.replacing(with: v, where: (v .> d) .| (v .!= v)) }
}

/// 16 floats, with lane-by-lane arithmetic from `SIMD`'s defaults.
struct Lanes16: KernelVector {
    typealias Scalar = Float
    typealias MaskStorage = SIMD16<Int32>
    var lanes = SIMD16<Float>()

    init() {}
    var scalarCount: Int { 16 }
    subscript(index: Int) -> Float {
        get { lanes[index] }
        set { lanes[index] = newValue }
    }

    static func rectified(_ v: Self) -> Self {
        var r = v
        for i in 0..<16 where v[i] <= 0 { r[i] = 0 }
        return r
    }

    static func pick(_ v: Self, over d: Self) -> Self {
        var r = d
        for i in 0..<16 where v[i] > d[i] || v[i].isNaN { r[i] = v[i] }
        return r
    }
}

/// Deterministic values in [-1, 1) (SplitMix64).
func randomFloats(_ count: Int, seed: UInt64) -> [Float] {
    var state = seed
    return (0..<count).map { _ in
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Float(z >> 40) / Float(1 << 23) - 1
    }
}

/// A packed copy of a `[k, columns]` matrix and its bias for `panelWidth`.
final class Packed {
    let panels: [Float]
    let bias: [Float]?
    let k: Int, columns: Int, panelWidth: Int

    init(_ matrix: [Float], k: Int, columns: Int, bias: [Float]?, panelWidth: Int) {
        self.k = k; self.columns = columns; self.panelWidth = panelWidth
        var panels = [Float](repeating: .nan, count: PackedMatrix.packedCount(k: k, columns: columns, panelWidth: panelWidth))
        panels.withUnsafeMutableBufferPointer { PackedMatrix.pack(matrix, k: k, columns: columns, panelWidth: panelWidth, into: $0.baseAddress!) }
        self.panels = panels
        self.bias = bias.map { b in
            var padded = [Float](repeating: .nan, count: PackedMatrix.panelCount(columns: columns, panelWidth: panelWidth) * panelWidth)
            padded.withUnsafeMutableBufferPointer { PackedMatrix.packBias(b, columns: columns, panelWidth: panelWidth, into: $0.baseAddress!) }
            return padded
        }
    }

    func with<R>(_ body: (PackedMatrix) -> R) -> R {
        panels.withUnsafeBufferPointer { p in
            if let bias {
                return bias.withUnsafeBufferPointer { b in
                    body(PackedMatrix(panels: p.baseAddress!, bias: b.baseAddress!, k: k, columns: columns, panelWidth: panelWidth))
                }
            }
            return body(PackedMatrix(panels: p.baseAddress!, bias: nil, k: k, columns: columns, panelWidth: panelWidth))
        }
    }
}
