/// Swift value types mirroring the ONNX IR messages ModelPort reads and
/// writes (Sources/CONNXProto/onnx.proto). Everything outside
/// `ONNXProtoAdapter.swift` works with these, never with the C structs.

/// `ModelProto`: the file's top level.
public struct ONNXModelProto: Sendable, Equatable {
    public var irVersion: Int64 = 8
    /// (domain, version); the default domain is "" (or "ai.onnx").
    public var opsetImports: [ONNXOperatorSet] = []
    public var producerName = ""
    public var producerVersion = ""
    public var domain = ""
    public var modelVersion: Int64 = 0
    public var docString = ""
    public var graph = ONNXGraphProto()
    public var metadata: [ONNXMetadataEntry] = []

    public init() {}

    /// The default-domain opset version, if imported.
    public var defaultOpset: Int64? {
        opsetImports.first { $0.domain == "" || $0.domain == "ai.onnx" }?.version
    }
}

/// `OperatorSetIdProto`.
public struct ONNXOperatorSet: Sendable, Equatable {
    public var domain: String
    public var version: Int64
    public init(domain: String, version: Int64) { self.domain = domain; self.version = version }
}

/// `StringStringEntryProto`: one `metadata_props` entry.
public struct ONNXMetadataEntry: Sendable, Equatable {
    public var key: String
    public var value: String
    public init(key: String, value: String) { self.key = key; self.value = value }
}

/// `GraphProto`.
public struct ONNXGraphProto: Sendable, Equatable {
    public var name = ""
    public var docString = ""
    public var nodes: [ONNXNodeProto] = []
    public var initializers: [ONNXTensorProto] = []
    public var inputs: [ONNXValueInfo] = []
    public var outputs: [ONNXValueInfo] = []
    public var valueInfo: [ONNXValueInfo] = []
    public init() {}
}

/// `NodeProto`: one operator application.
public struct ONNXNodeProto: Sendable, Equatable {
    public var name: String
    public var opType: String
    public var domain: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [ONNXAttribute]

    public init(name: String = "", opType: String, domain: String = "", inputs: [String], outputs: [String],
                attributes: [ONNXAttribute] = []) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }

    public func attribute(_ name: String) -> ONNXAttribute.Value? {
        attributes.first { $0.name == name }?.value
    }
}

/// `AttributeProto`, with the value in the field its `type` names.
public struct ONNXAttribute: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case float(Float)
        case int(Int64)
        case string(String)
        case tensor(ONNXTensorProto)
        case floats([Float])
        case ints([Int64])
        case strings([String])
        /// A kind ModelPort does not read (graphs, sparse tensors, type protos),
        /// by its `AttributeType` number.
        case unsupported(Int32)
    }

    public var name: String
    public var value: Value

    public init(_ name: String, _ value: Value) {
        self.name = name
        self.value = value
    }
}

/// `TensorProto`: dims, element type and data.
public struct ONNXTensorProto: Sendable, Equatable {
    /// `TensorProto.DataType` numbers ModelPort understands.
    public enum DataType: Int32, Sendable {
        case float = 1, uint8 = 2, int8 = 3, int32 = 6, int64 = 7, bool = 9, double = 11
    }

    public var name: String
    public var dims: [Int64]
    /// The `data_type` number as stored (see `DataType`).
    public var dataType: Int32
    public var floatData: [Float] = []
    public var int32Data: [Int32] = []
    public var int64Data: [Int64] = []
    public var doubleData: [Double] = []
    /// Little-endian element bytes, when the writer used `raw_data`.
    public var rawData: [UInt8]? = nil
    /// Whether the data lives in an external file (`data_location = EXTERNAL`).
    public var isExternal = false

    public init(name: String, dims: [Int64], dataType: Int32) {
        self.name = name
        self.dims = dims
        self.dataType = dataType
    }

    /// A float32 tensor stored in `raw_data`.
    public init(name: String, shape: [Int], floats: [Float]) {
        self.init(name: name, dims: shape.map { Int64($0) }, dataType: DataType.float.rawValue)
        rawData = floats.withUnsafeBufferPointer { Array(UnsafeRawBufferPointer($0)) }
    }

    /// An int64 tensor stored in `raw_data` (shapes, pads, axes).
    public init(name: String, shape: [Int], int64s: [Int64]) {
        self.init(name: name, dims: shape.map { Int64($0) }, dataType: DataType.int64.rawValue)
        rawData = int64s.withUnsafeBufferPointer { Array(UnsafeRawBufferPointer($0)) }
    }
}

/// `ValueInfoProto` restricted to tensor types: name, element type and shape.
public struct ONNXValueInfo: Sendable, Equatable {
    /// One dimension: a fixed size, a named symbol (a dynamic batch), or unknown.
    public enum Dimension: Sendable, Equatable, CustomStringConvertible {
        case value(Int64)
        case symbol(String)
        case unknown

        /// `28`, `'batch'` for a named symbol, `?` when unknown (as messages show them).
        public var description: String {
            switch self {
            case .value(let v): return "\(v)"
            case .symbol(let s): return "'\(s)'"
            case .unknown: return "?"
            }
        }
    }

    public var name: String
    /// Nil when the type is not a tensor type (sequence, map, ...).
    public var elementType: Int32?
    /// Nil when the shape is not given.
    public var shape: [Dimension]?

    public init(name: String, elementType: Int32?, shape: [Dimension]?) {
        self.name = name
        self.elementType = elementType
        self.shape = shape
    }
}
