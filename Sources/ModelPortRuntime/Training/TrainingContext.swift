/// What a forward pass needs to know beyond its input: whether it is training
/// (dropout active, batch statistics) and where its randomness comes from.
///
/// Dropout draws come from a counter-based generator keyed by (seed, step,
/// layer name, sample index in the whole batch, element), so a mask does not
/// depend on how a batch is split over threads.
public struct TrainingContext: Sendable {
    public var training: Bool
    public var seed: UInt64
    /// The optimizer step (batch number since training began).
    public var step: Int
    /// Index, within the whole batch, of this chunk's first sample.
    public var sampleOffset: Int

    public init(training: Bool = true, seed: UInt64 = 0, step: Int = 0, sampleOffset: Int = 0) {
        self.training = training
        self.seed = seed
        self.step = step
        self.sampleOffset = sampleOffset
    }

    /// Inference mode: dropout is the identity, normalisation uses moving statistics.
    public static let inference = TrainingContext(training: false)

    /// A key for (layer, sample) from which element draws are made.
    public func randomKey(layer: String, sample: Int) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a over the layer name
        for b in layer.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        var k = SplitMix64.mix(seed ^ 0x5851_f42d_4c95_7f2d)
        k = SplitMix64.mix(k ^ UInt64(truncatingIfNeeded: step))
        k = SplitMix64.mix(k ^ h)
        return SplitMix64.mix(k ^ UInt64(truncatingIfNeeded: sampleOffset + sample))
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): a small, fast, seedable generator;
/// `mix` is its finaliser, used as a counter-based hash.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }

    @inline(__always)
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func nextFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Element `index` of the uniform [0, 1) stream for `key`, without state.
    @inline(__always)
    public static func uniform(key: UInt64, index: Int) -> Float {
        Float(mix(key &+ UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15) >> 40) * 0x1p-24
    }
}
