/// Eight floats of a parameter-sized buffer at a time, for the optimizer rules'
/// element-wise updates: `FloatLanes.forEach` walks a count in chunks of eight
/// and hands each chunk's start and length to the body, which loads, computes
/// on `SIMD8<Float>` and stores. The last chunk may be short: its missing lanes
/// load as zero and are never stored, so each element gets exactly the
/// float32 operations of the scalar formula (lane arithmetic is IEEE and
/// nothing is fused), bit for bit.
struct FloatLanes {
    typealias Vector = SIMD8<Float>
    let base: UnsafeMutablePointer<Float>

    init(_ buffer: UnsafeMutableBufferPointer<Float>) { base = buffer.baseAddress! }
    init(_ buffer: UnsafeBufferPointer<Float>) { base = UnsafeMutablePointer(mutating: buffer.baseAddress!) }

    @inline(__always)
    subscript(_ i: Int, _ n: Int) -> Vector {
        get {
            if n == Vector.scalarCount {
                return UnsafeRawPointer(base + i).loadUnaligned(as: Vector.self)
            }
            var v = Vector()
            for k in 0..<n { v[k] = base[i + k] }
            return v
        }
        nonmutating set {
            if n == Vector.scalarCount {
                UnsafeMutableRawPointer(base + i).storeBytes(of: newValue, as: Vector.self)
                return
            }
            for k in 0..<n { base[i + k] = newValue[k] }
        }
    }

    /// Calls `body(start, length)` for consecutive chunks covering `0..<count`.
    @inline(__always)
    static func forEach(_ count: Int, _ body: (_ start: Int, _ length: Int) -> Void) {
        let whole = count - count % Vector.scalarCount
        var i = 0
        while i < whole {
            body(i, Vector.scalarCount)
            i += Vector.scalarCount
        }
        if whole < count { body(whole, count - whole) }
    }
}
