/// A run of one matrix row's elements that lie next to each other in memory:
/// `length` floats starting `offset` floats after the row's base.
public struct Segment: Sendable, Equatable {
    public var offset: Int
    public var length: Int

    public init(offset: Int, length: Int) {
        self.offset = offset
        self.length = length
    }
}

/// The left operand of a matrix product, read in place.
///
/// For a convolution over NHWC images, row `r` is output pixel `r`'s
/// receptive field: for each kernel row, `kernelWidth * channels` consecutive
/// input floats (one `Segment`), in the order of a Keras kernel
/// `(kh, kw, in, out)` read as a `[kh * kw * in, out]` matrix. Nothing is
/// unfolded (no im2col): the micro-kernel broadcasts each element from the
/// input itself. A dense layer is the special case of one segment per row.
///
/// Rows are numbered image by image, then window row by window row:
/// row `r` is image `r / (height * width)`, window row `(r / width) % height`,
/// column `r % width`, and starts at
/// `base + image * imageStride + row * rowStride + column * columnStride`.
/// Within a segment, element `j` is `j * elementStride` floats on (1 for a
/// row stored as a row; a matrix's leading dimension when the rows read are
/// its columns, as for the Aᵀ of `Aᵀ · B`).
public struct ImplicitMatrix: @unchecked Sendable {
    public var base: UnsafePointer<Float>
    /// Window rows and columns per image (for a dense layer: 1 and the row count).
    public var height: Int
    public var width: Int
    public var imageStride: Int
    public var rowStride: Int
    public var columnStride: Int
    /// The row's runs, in the order the packed weights' rows follow; their
    /// lengths add up to the shared dimension `k`.
    public var segments: UnsafeBufferPointer<Segment>
    public var elementStride: Int

    public init(base: UnsafePointer<Float>, height: Int, width: Int, imageStride: Int, rowStride: Int,
                columnStride: Int, segments: UnsafeBufferPointer<Segment>, elementStride: Int = 1) {
        self.base = base
        self.height = height
        self.width = width
        self.imageStride = imageStride
        self.rowStride = rowStride
        self.columnStride = columnStride
        self.segments = segments
        self.elementStride = elementStride
    }

    /// `count` rows, `stride` floats apart, their elements `elementStride`
    /// apart: a dense layer's input (elements adjacent), or the columns of
    /// a row-major matrix (rows 1 apart, elements its leading dimension apart).
    public init(rows: UnsafePointer<Float>, count: Int, stride: Int, segments: UnsafeBufferPointer<Segment>,
                elementStride: Int = 1) {
        self.init(base: rows, height: 1, width: max(1, count), imageStride: 0, rowStride: 0,
                  columnStride: stride, segments: segments, elementStride: elementStride)
    }

    /// The shared dimension: the sum of the segment lengths.
    public var k: Int { segments.reduce(0) { $0 + $1.length } }

    /// Writes the start of rows `rows` into `pointers`, in order.
    @inlinable
    public func rowPointers(_ rows: Range<Int>, into pointers: UnsafeMutablePointer<UnsafePointer<Float>>) {
        guard !rows.isEmpty else { return }
        let perImage = height * width
        var image = rows.lowerBound / perImage
        var row = (rows.lowerBound % perImage) / width
        var column = rows.lowerBound % width
        var i = 0
        while i < rows.count {
            pointers[i] = base + image * imageStride + row * rowStride + column * columnStride
            i += 1
            column += 1
            if column == width {
                column = 0
                row += 1
                if row == height { row = 0; image += 1 }
            }
        }
    }
}

/// Where a product's rows go: row `i` (counting from the first row
/// computed) at `base + i * rowStride`, its first `columns` floats —
/// overwritten, or with `accumulate` added to (BLAS's beta = 1).
public struct OutputRows: @unchecked Sendable {
    public var base: UnsafeMutablePointer<Float>
    public var rowStride: Int
    public var columns: Int
    public var accumulate: Bool

    public init(base: UnsafeMutablePointer<Float>, rowStride: Int, columns: Int, accumulate: Bool = false) {
        self.base = base
        self.rowStride = rowStride
        self.columns = columns
        self.accumulate = accumulate
    }
}
