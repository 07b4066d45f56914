import ModelPortRuntime

/// The seeded generator for shuffles and splits: the runtime's SplitMix64,
/// whose sequence depends only on its seed, so they are reproducible everywhere.
public typealias SeededGenerator = SplitMix64
