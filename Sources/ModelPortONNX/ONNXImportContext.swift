import Foundation
import ModelPortRuntime

/// A graph value the importer has turned into a runtime node.
///
/// Layout: the runtime may hold an ONNX tensor with its sample axes in
/// another order (ONNX's NCHW images are held NHWC, so runtime convolutions
/// apply directly). `perm[i]` is the ONNX sample axis held in runtime sample
/// axis `i`; batch is axis 0 in both and never moves.
struct ImportedValue {
    let node: Int
    /// ONNX sample shape (no batch axis).
    let onnxShape: [Int]
    let perm: [Int]
    var runtimeShape: [Int] { perm.map { onnxShape[$0] } }
    var isIdentityLayout: Bool { perm == Array(0..<perm.count) }
}

/// A flattening of a value held in another layout, done in the runtime's
/// order: element `i` of `node`'s output is ONNX element `order[i]` of the
/// flattened value. A dense layer reading it permutes its kernel rows instead
/// of the data (PyTorch's `Flatten -> Gemm` on an NHWC-held image becomes
/// Keras's plain `Flatten -> Dense`).
struct RuntimeOrderFlatten {
    let node: Int
    let order: [Int]
}

/// A constant tensor (an initializer, a Constant node, or folded shape
/// arithmetic). Integers are exact in a Double up to 2^53.
struct ConstantTensor {
    let shape: [Int]
    let values: [Double]
    var isScalarLike: Bool { values.count == 1 }
}

/// An int64 vector computed from shapes, where the batch size is unknown
/// until run time (tf2onnx's `Shape -> Gather -> Concat -> Reshape`).
enum SymbolicInt: Equatable, CustomStringConvertible {
    case known(Int64)
    case batch

    /// `3`, or `batch` for the run-time batch size (messages show vectors as `[batch, 784]`).
    var description: String {
        switch self {
        case .known(let k): return "\(k)"
        case .batch: return "batch"
        }
    }
}

/// The importer's state while walking one graph.
final class ONNXImportContext {
    let file: String
    let opset: Int
    let graph: ONNXGraphProto
    var constants: [String: ConstantTensor] = [:]
    var symbolic: [String: [SymbolicInt]] = [:]
    /// Boolean masks `x >= t` (value name, t), consumed by `Where`.
    var masks: [String: (String, Float)] = [:]
    private var producers: [String: Int] = [:]
    var values: [String: ImportedValue] = [:]
    /// Flattened values also available in the runtime order of what they
    /// flatten (`values` always holds the ONNX order).
    var runtimeOrderFlattens: [String: RuntimeOrderFlatten] = [:]
    private(set) var nodes: [Functional.Node] = []
    private(set) var nodeShapes: [[Int]] = []
    /// ONNX node indices reading each value name.
    var consumers: [String: [Int]] = [:]
    /// ONNX nodes already handled by an earlier node (a bias Add fused into its Conv/MatMul).
    var skipped: Set<Int> = []
    private var nameCounts: [String: Int] = [:]
    /// The ONNX node being imported, for error messages.
    var current: ONNXNodeProto?

    /// Largest tensor (elements) an initializer may declare.
    static let maxTensorElements = 1 << 28
    /// Largest kernel size, stride, dilation, padding or upsampling factor
    /// read from a node; with sample sizes capped too, shape arithmetic on
    /// them cannot overflow.
    static let maxWindowValue = 1 << 16
    /// Largest sample (elements) any layer may produce: far beyond real
    /// models, and small enough that no shape computation overflows.
    static let maxSampleElements = 1 << 32
    /// Bytes of constants and layer weights this import has declared so far,
    /// checked before each allocation.
    private(set) var weights: WeightBudget

    init(file: String, opset: Int, graph: ONNXGraphProto, weights: WeightBudget = WeightBudget()) {
        self.file = file
        self.weights = weights
        self.opset = opset
        self.graph = graph
        for (i, node) in graph.nodes.enumerated() {
            for input in node.inputs where !input.isEmpty { consumers[input, default: []].append(i) }
            for output in node.outputs where !output.isEmpty { producers[output] = i }
        }
    }

    /// The ONNX node computing `name`, if any.
    func producer(of name: String) -> ONNXNodeProto? { producers[name].map { graph.nodes[$0] } }

    func error(_ message: String) -> ONNXError {
        ONNXError(file: file, node: current?.name ?? current?.outputs.first, op: current?.opType, message: message)
    }

    // MARK: - Runtime nodes

    /// A Keras-style unique layer name: `conv2d`, `conv2d_1`, ...
    func layerName(_ typeName: String) -> String {
        let base = snakeCase(typeName.replacingOccurrences(of: "ONNX:", with: "onnx_"))
        let k = nameCounts[base, default: 0]
        nameCounts[base] = k + 1
        return k == 0 ? base : "\(base)_\(k)"
    }

    /// Adds a layer applied to `inputs` and returns its node index.
    /// - Throws: `ONNXError` when the layer does not accept the input shapes.
    func add(_ layer: any Layer, _ inputs: [ImportedValue]) throws -> Int {
        let shape: [Int]
        do {
            if let input = layer as? InputLayer {
                shape = input.sampleShape
            } else if let merge = layer as? any MergeLayer {
                shape = try merge.outputShape(forInputs: inputs.map(\.runtimeShape))
            } else {
                shape = try layer.outputShape(for: inputs[0].runtimeShape)
            }
        } catch let e as RuntimeError {
            throw error("\(layer.typeName): \(e.message)")
        }
        try checkSample(shape, of: layer.typeName)
        nodes.append(Functional.Node(layer: layer, inputs: inputs.map(\.node)))
        nodeShapes.append(shape)
        return nodes.count - 1
    }

    func shape(ofNode index: Int) -> [Int] { nodeShapes[index] }

    // MARK: - Checked sizes

    /// Refuses a layer output with an empty axis, more than
    /// `maxSampleElements` elements, or one sample larger than the memory limit.
    private func checkSample(_ shape: [Int], of typeName: String) throws {
        guard shape.allSatisfy({ $0 >= 1 }) else { throw error("\(typeName) would produce an empty output of shape \(shape)") }
        let bytes: Int
        do {
            bytes = try MemoryBudget.bytes(ofShape: shape)
        } catch {
            throw self.error("\(typeName) would produce an output of shape \(shape), too large to address")
        }
        guard bytes / MemoryLayout<Float>.size <= Self.maxSampleElements else {
            throw error("\(typeName) would produce \(shape) (\(bytes / 4) elements per sample), larger than ModelPort accepts (\(Self.maxSampleElements))")
        }
        do {
            try MemoryBudget.check(bytes, for: "one sample of the output of \(typeName) (\(shape))")
        } catch let e as RuntimeError {
            throw error(e.message)
        }
    }

    /// Adds a tensor of `shape` (elements of `elementSize` bytes) to the
    /// weights this import holds, before it is allocated.
    /// - Throws: `ONNXError` naming `what` when the size overflows or the
    ///   running total passes the limit.
    func reserve(_ shape: [Int], elementSize: Int = MemoryLayout<Float>.size, for what: String) throws {
        do {
            try weights.reserve(shape, elementSize: elementSize, for: what)
        } catch let e as RuntimeError {
            throw error(e.message)
        }
    }

    /// The product of `dims`, refusing overflow.
    func product(_ dims: [Int], of what: String) throws -> Int {
        var total = 1
        for d in dims {
            let (p, overflow) = total.multipliedReportingOverflow(by: d)
            guard !overflow else { throw error("\(what) \(dims) is too large: its sizes multiply past what can be addressed") }
            total = p
        }
        return total
    }

    /// Requires every value of an attribute such as `pads` or `strides` to
    /// lie in `range` (by default 0...maxWindowValue).
    func checkWindow(_ values: [Int], _ what: String, range: ClosedRange<Int> = 0...maxWindowValue) throws {
        if let v = values.first(where: { $0 > range.upperBound }) {
            throw error("\(what) \(values) are too large: \(v) is more than ModelPort accepts (\(range.upperBound))")
        }
        if let v = values.first(where: { $0 < range.lowerBound }) {
            throw error("\(what) \(values) are invalid: \(v) is less than \(range.lowerBound)")
        }
    }

    /// A constant's value as an exact integer.
    /// - Throws: when it is not a whole number or beyond ±2^53 (where
    ///   ModelPort's Double constants stop being exact).
    func integer(_ value: Double, in name: String) throws -> Int64 {
        guard value.rounded() == value else { throw error("input '\(name)' holds \(value) where a whole number is needed") }
        guard abs(value) <= 0x1p53 else {
            throw error("input '\(name)' holds \(value), too large for an integer ModelPort can use (at most 2^53 in size)")
        }
        return Int64(value)
    }

    /// `v` with its runtime axes reordered to hold ONNX axes `target`,
    /// adding a Permute layer when the layout differs.
    func materialize(_ v: ImportedValue, _ target: [Int]) throws -> ImportedValue {
        if v.perm == target { return v }
        // Runtime output axis i holds ONNX axis target[i], found in input axis perm^-1(target[i]).
        let dims = target.map { v.perm.firstIndex(of: $0)! + 1 }
        let node = try add(Permute(name: layerName("Permute"), dims: dims), [v])
        return ImportedValue(node: node, onnxShape: v.onnxShape, perm: target)
    }

    func identityLayout(_ v: ImportedValue) throws -> ImportedValue { try materialize(v, Array(0..<v.onnxShape.count)) }

    /// For image values (C, H, W): runtime NHWC.
    func channelsLast(_ v: ImportedValue) throws -> ImportedValue {
        let r = v.onnxShape.count
        return try materialize(v, Array(1..<max(r, 1)) + [0])
    }

    /// Largest flattening whose element order is recorded for dense layers.
    static let maxRecordedFlatten = 1 << 24

    /// Flattens `x` (all sample axes into one) into ONNX output `name`: in
    /// ONNX order, and — when `x` is held in another layout — also in the
    /// runtime's order, for a dense layer to read without a Permute.
    func flatten(_ x: ImportedValue, into name: String) throws {
        let count = try product(x.onnxShape, of: "input shape")
        // The runtime-order flattening first, so that it, the one kept when a dense layer reads it, gets the plain name.
        if !x.isIdentityLayout, count <= Self.maxRecordedFlatten {
            let runtimeFlat = try add(Flatten(name: layerName("Flatten")), [x])
            runtimeOrderFlattens[name] = RuntimeOrderFlatten(node: runtimeFlat, order: Self.elementOrder(of: x))
        }
        let flat = try add(Flatten(name: layerName("Flatten")), [try identityLayout(x)])
        values[name] = ImportedValue(node: flat, onnxShape: [count], perm: [0])
    }

    /// For each element of `x` in the runtime's row-major order, its index in ONNX's.
    private static func elementOrder(of x: ImportedValue) -> [Int] {
        var onnxStrides = [Int](repeating: 1, count: x.onnxShape.count)
        for k in stride(from: x.onnxShape.count - 2, through: 0, by: -1) { onnxStrides[k] = onnxStrides[k + 1] * x.onnxShape[k + 1] }
        let shape = x.runtimeShape, strides = x.perm.map { onnxStrides[$0] }
        let count = shape.reduce(1, *)
        var order = [Int](repeating: 0, count: count)
        var index = [Int](repeating: 0, count: shape.count)
        var offset = 0
        for i in 0..<count {
            order[i] = offset
            var k = shape.count - 1
            while k >= 0 {
                index[k] += 1
                offset += strides[k]
                if index[k] < shape[k] { break }
                offset -= strides[k] * shape[k]
                index[k] = 0
                k -= 1
            }
        }
        return order
    }

    /// Constant `k` as the operand of an element-wise operation on `x`: its
    /// axes aligned with one sample's (numpy's rule; a leading batch axis of
    /// size 1 dropped) and arranged in `x`'s runtime layout, at its own
    /// broadcastable shape.
    /// - Throws: when it would broadcast over the batch or enlarge the sample.
    func runtimeConstant(_ k: ConstantTensor, for x: ImportedValue, of op: String) throws -> Tensor {
        var shape = k.shape
        while shape.count > x.onnxShape.count, shape.first == 1 { shape.removeFirst() }
        guard shape.count <= x.onnxShape.count else {
            throw error("constant of shape \(k.shape) does not broadcast to one sample of shape \(x.onnxShape) (broadcasting over the batch axis is not supported)")
        }
        shape = [Int](repeating: 1, count: x.onnxShape.count - shape.count) + shape
        guard zip(shape, x.onnxShape).allSatisfy({ $0 == 1 || $0 == $1 }) else {
            throw error("constant of shape \(k.shape) does not broadcast to one sample of shape \(x.onnxShape) without enlarging it")
        }
        if k.values.count == 1 { return Tensor(shape: [], scalars: [Float(k.values[0])]) }
        try reserve(shape, for: "the \(op) constant")
        let values = permuteAxes(k.values.map { Float($0) }, shape: shape, perm: x.perm)
        return Tensor(shape: x.perm.map { shape[$0] }, scalars: values)
    }

    // MARK: - Looking up inputs

    func isConstant(_ name: String) -> Bool { constants[name] != nil || symbolic[name] != nil }

    /// Drops runtime nodes no output depends on (what a fused pattern left
    /// behind), renumbering the rest. Returns the kept nodes and the new
    /// index of every kept old index.
    func pruned(keeping roots: [Int]) -> (nodes: [Functional.Node], shapes: [[Int]], index: [Int: Int]) {
        var needed = Set<Int>()
        var stack = roots
        while let i = stack.popLast() { if needed.insert(i).inserted { stack += nodes[i].inputs } }
        var index: [Int: Int] = [:]
        var kept: [Functional.Node] = []
        var shapes: [[Int]] = []
        for i in nodes.indices where needed.contains(i) {
            index[i] = kept.count
            kept.append(Functional.Node(layer: nodes[i].layer, inputs: nodes[i].inputs.map { index[$0]! }))
            shapes.append(nodeShapes[i])
        }
        return (kept, shapes, index)
    }

    /// A graph value (not a constant).
    func value(_ name: String) throws -> ImportedValue {
        if let v = values[name] { return v }
        if isConstant(name) { throw error("input '\(name)' is a constant where ModelPort expects a computed tensor") }
        throw error("input '\(name)' is not produced by any earlier node, initializer or graph input")
    }

    func constant(_ name: String) throws -> ConstantTensor {
        if let c = constants[name] { return c }
        if let s = symbolic[name], s.allSatisfy({ $0 != .batch }) {
            return ConstantTensor(shape: [s.count], values: s.map { if case .known(let k) = $0 { return Double(k) }; return 0 })
        }
        throw error("input '\(name)' must be a constant (an initializer or Constant node)")
    }

    /// A constant or shape-derived integer vector.
    func symbolicInts(_ name: String) throws -> [SymbolicInt] {
        if let s = symbolic[name] { return s }
        if let c = constants[name] { return try c.values.map { .known(try integer($0, in: name)) } }
        throw error("input '\(name)' must be a constant integer vector (or computed from shapes)")
    }

    func ints(_ name: String) throws -> [Int] {
        try symbolicInts(name).map {
            guard case .known(let k) = $0 else { throw error("input '\(name)' depends on the batch size where a fixed value is needed") }
            return Int(k)
        }
    }

    /// Reads a TensorProto into a constant, refusing absurd sizes, missing or
    /// external data and unsupported element types.
    func decode(_ t: ONNXTensorProto) throws -> ConstantTensor {
        var count = 1
        for d in t.dims {
            guard d >= 0 else { throw error("tensor '\(t.name)' has a negative dimension in \(t.dims)") }
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(d))
            guard !overflow, product <= ONNXImportContext.maxTensorElements else {
                throw error("tensor '\(t.name)' of shape \(t.dims) is larger than ModelPort accepts (\(ONNXImportContext.maxTensorElements) elements)")
            }
            count = product
        }
        guard !t.isExternal else {
            throw error("tensor '\(t.name)' keeps its data in an external file (data_location EXTERNAL), which ModelPort does not read: only self-contained .onnx files are imported")
        }
        let shape = t.dims.map { Int($0) }
        // Constants are held as Doubles while importing.
        try reserve(shape, elementSize: MemoryLayout<Double>.size, for: "tensor '\(t.name)'")
        func raw<T>(_ type: T.Type, _ convert: (T) -> Double) throws -> [Double]? {
            guard let bytes = t.rawData else { return nil }
            guard bytes.count == count * MemoryLayout<T>.size else {
                throw error("tensor '\(t.name)' has \(bytes.count) bytes of data for \(count) elements of \(MemoryLayout<T>.size) bytes")
            }
            return bytes.withUnsafeBytes { b in (0..<count).map { convert(b.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) } }
        }
        func typed<T>(_ data: [T], _ convert: (T) -> Double) throws -> [Double] {
            guard data.count == count else {
                throw error("tensor '\(t.name)' has \(data.count) values for shape \(t.dims)")
            }
            return data.map(convert)
        }
        let values: [Double]
        switch t.dataType {
        case 1: values = try raw(Float.self) { Double($0) } ?? typed(t.floatData) { Double($0) }
        case 11: values = try raw(Double.self) { $0 } ?? typed(t.doubleData) { $0 }
        case 7: values = try raw(Int64.self) { Double($0) } ?? typed(t.int64Data) { Double($0) }
        case 6: values = try raw(Int32.self) { Double($0) } ?? typed(t.int32Data) { Double($0) }
        case 3: values = try raw(Int8.self) { Double($0) } ?? typed(t.int32Data) { Double($0) }
        case 2, 9: values = try raw(UInt8.self) { Double($0) } ?? typed(t.int32Data) { Double($0) }
        default: throw error("tensor '\(t.name)' has element type \(t.dataType), which ModelPort does not read (float, double, int8/32/64, uint8, bool)")
        }
        return ConstantTensor(shape: shape, values: values)
    }
}

/// Keras's snake_case of a class name: `MaxPooling2D` -> `max_pooling2d`, `ReLU` -> `re_lu`.
func snakeCase(_ name: String) -> String {
    func sub(_ s: String, _ pattern: String) -> String {
        let re = try! NSRegularExpression(pattern: pattern)
        return re.stringByReplacingMatches(in: s, range: NSRange(s.startIndex..., in: s), withTemplate: "$1_$2")
    }
    return sub(sub(name, "(.)([A-Z][a-z0-9]+)"), "([a-z])([A-Z])").lowercased()
}
