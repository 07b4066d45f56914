import ModelPortRuntime

/// MNIST-style images and labels as model inputs.
public enum MNIST {
    /// IDX images (N x rows x cols, uint8) as a float tensor scaled to [0, 1],
    /// shaped `[N] + sampleShape` (e.g. `[N, 28, 28, 1]` for a CNN, `[N, 28, 28]`
    /// or `[N, 784]` for an MLP).
    /// - Throws: `DataError` when the file is not an image file or the model's
    ///   sample shape does not hold rows x cols elements.
    public static func images(_ idx: IDXFile, sampleShape: [Int]? = nil, limit: Int? = nil) throws -> Tensor {
        guard idx.dimensions.count == 3 else {
            throw DataError(idx.path, "expected an image file (N x rows x cols), found dimensions \(idx.dimensions)")
        }
        let count = min(idx.dimensions[0], limit ?? Int.max)
        let per = idx.dimensions[1] * idx.dimensions[2]
        let shape = sampleShape ?? [idx.dimensions[1], idx.dimensions[2], 1]
        guard shape.reduce(1, *) == per else {
            throw DataError(idx.path, "images are \(idx.dimensions[1])x\(idx.dimensions[2]) = \(per) pixels; the model expects samples of shape \(shape)")
        }
        let scalars = idx.bytes[0..<(count * per)].map { Float($0) / 255 }
        return Tensor(shape: [count] + shape, scalars: scalars)
    }

    /// IDX labels (N, uint8) as integers.
    public static func labels(_ idx: IDXFile, limit: Int? = nil) throws -> [Int] {
        guard idx.dimensions.count == 1 else {
            throw DataError(idx.path, "expected a label file (one dimension), found dimensions \(idx.dimensions)")
        }
        return idx.bytes.prefix(limit ?? Int.max).map { Int($0) }
    }
}
