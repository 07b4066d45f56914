internal import CONNXProto
import Foundation

/// The one place that touches protobuf-c and the C structs generated from
/// `onnx.proto`: bytes <-> `ONNXModelProto`.
///
/// Decoding is bounded three ways: the caller checks the file size before
/// reading; `ONNXNestingScan` refuses graphs nested deeper than protobuf-c's
/// recursive unpacker can take on a thread's stack; and protobuf-c allocates
/// through a budgeted allocator, so a hostile file made of millions of tiny
/// sub-messages fails cleanly instead of expanding into gigabytes of C structs.
enum ONNXProtoAdapter {
    /// How many bytes of C structures a decode may allocate per byte of input
    /// (plus a fixed 64 MiB), before it is refused.
    static let allocationFactor = 8

    private static let invalidProtobuf = "not a valid ONNX protobuf (truncated or damaged, or not an ONNX model)"

    // MARK: - Decoding

    /// Parses a serialized `ModelProto`.
    /// - Throws: `ONNXError` naming `file` when the bytes are not a valid
    ///   ONNX protobuf or would need more memory than the budget.
    static func decode(_ bytes: [UInt8], file: String) throws -> ONNXModelProto {
        do {
            try ONNXNestingScan.check(bytes)
        } catch .tooDeep {
            throw ONNXError(file: file, message: "graphs are nested more than \(ONNXNestingScan.maxGraphDepth) deep inside node attributes (a hostile or damaged file?)")
        } catch .malformed {
            throw ONNXError(file: file, message: invalidProtobuf)
        }
        let budget = UnsafeMutablePointer<Int>.allocate(capacity: 2)
        defer { budget.deallocate() }
        budget[0] = bytes.count * allocationFactor + (64 << 20)  // bytes left
        budget[1] = 0  // set to 1 when an allocation was refused
        var allocator = ProtobufCAllocator(alloc: budgetedAlloc, free: budgetedFree, allocator_data: budget)
        let message = bytes.withUnsafeBufferPointer { buffer in
            onnx__model_proto__unpack(&allocator, buffer.count, buffer.baseAddress)
        }
        guard let message else {
            if budget[1] != 0 {
                throw ONNXError(file: file, message: "decoding needs more memory than ModelPort allows for a file of \(bytes.count) bytes (a hostile or damaged file?)")
            }
            throw ONNXError(file: file, message: invalidProtobuf)
        }
        defer { onnx__model_proto__free_unpacked(message, &allocator) }
        return model(message.pointee)
    }

    private static func model(_ m: Onnx__ModelProto) -> ONNXModelProto {
        var out = ONNXModelProto()
        out.irVersion = m.has_ir_version != 0 ? m.ir_version : 0
        out.opsetImports = buffer(m.opset_import, m.n_opset_import).compactMap { p in
            p.map { ONNXOperatorSet(domain: string($0.pointee.domain), version: $0.pointee.has_version != 0 ? $0.pointee.version : 0) }
        }
        out.producerName = string(m.producer_name)
        out.producerVersion = string(m.producer_version)
        out.domain = string(m.domain)
        out.modelVersion = m.has_model_version != 0 ? m.model_version : 0
        out.docString = string(m.doc_string)
        out.metadata = entries(m.metadata_props, m.n_metadata_props)
        if let g = m.graph { out.graph = graph(g.pointee) }
        return out
    }

    private static func graph(_ g: Onnx__GraphProto) -> ONNXGraphProto {
        var out = ONNXGraphProto()
        out.name = string(g.name)
        out.docString = string(g.doc_string)
        out.nodes = buffer(g.node, g.n_node).compactMap { $0.map { node($0.pointee) } }
        out.initializers = buffer(g.initializer, g.n_initializer).compactMap { $0.map { tensor($0.pointee) } }
        out.inputs = buffer(g.input, g.n_input).compactMap { $0.map { valueInfo($0.pointee) } }
        out.outputs = buffer(g.output, g.n_output).compactMap { $0.map { valueInfo($0.pointee) } }
        out.valueInfo = buffer(g.value_info, g.n_value_info).compactMap { $0.map { valueInfo($0.pointee) } }
        return out
    }

    private static func node(_ n: Onnx__NodeProto) -> ONNXNodeProto {
        ONNXNodeProto(
            name: string(n.name), opType: string(n.op_type), domain: string(n.domain),
            inputs: buffer(n.input, n.n_input).map { string($0) },
            outputs: buffer(n.output, n.n_output).map { string($0) },
            attributes: buffer(n.attribute, n.n_attribute).compactMap { $0.map { attribute($0.pointee) } })
    }

    private static func attribute(_ a: Onnx__AttributeProto) -> ONNXAttribute {
        let name = string(a.name)
        let type = a.has_type != 0 ? Int32(bitPattern: a.type.rawValue) : 0
        let value: ONNXAttribute.Value
        switch type {
        case 1: value = .float(a.f)
        case 2: value = .int(a.i)
        case 3: value = .string(String(decoding: bytes(a.s), as: UTF8.self))
        case 4: value = a.t.map { .tensor(tensor($0.pointee)) } ?? .unsupported(4)
        case 6: value = .floats(Array(buffer(a.floats, a.n_floats)))
        case 7: value = .ints(Array(buffer(a.ints, a.n_ints)))
        case 8: value = .strings(buffer(a.strings, a.n_strings).map { String(decoding: bytes($0), as: UTF8.self) })
        default: value = .unsupported(type)
        }
        return ONNXAttribute(name, value)
    }

    private static func tensor(_ t: Onnx__TensorProto) -> ONNXTensorProto {
        var out = ONNXTensorProto(name: string(t.name), dims: Array(buffer(t.dims, t.n_dims)),
                                  dataType: t.has_data_type != 0 ? t.data_type : 0)
        out.floatData = Array(buffer(t.float_data, t.n_float_data))
        out.int32Data = Array(buffer(t.int32_data, t.n_int32_data))
        out.int64Data = Array(buffer(t.int64_data, t.n_int64_data))
        out.doubleData = Array(buffer(t.double_data, t.n_double_data))
        if t.has_raw_data != 0 { out.rawData = bytes(t.raw_data) }
        out.isExternal = (t.has_data_location != 0 && t.data_location.rawValue != 0) || t.n_external_data > 0
        return out
    }

    private static func valueInfo(_ v: Onnx__ValueInfoProto) -> ONNXValueInfo {
        var info = ONNXValueInfo(name: string(v.name), elementType: nil, shape: nil)
        guard let type = v.type?.pointee, type.value_case.rawValue == 1, let tensorType = type.tensor_type?.pointee else {
            return info
        }
        info.elementType = tensorType.has_elem_type != 0 ? tensorType.elem_type : 0
        if let shape = tensorType.shape?.pointee {
            info.shape = buffer(shape.dim, shape.n_dim).map { d in
                guard let d = d?.pointee else { return .unknown }
                switch d.value_case.rawValue {
                case 1: return .value(d.dim_value)
                case 2: return .symbol(string(d.dim_param))
                default: return .unknown
                }
            }
        }
        return info
    }

    private static func entries(_ p: UnsafeMutablePointer<UnsafeMutablePointer<Onnx__StringStringEntryProto>?>?, _ n: Int) -> [ONNXMetadataEntry] {
        buffer(p, n).compactMap { $0.map { ONNXMetadataEntry(key: string($0.pointee.key), value: string($0.pointee.value)) } }
    }

    private static func string(_ p: UnsafeMutablePointer<CChar>?) -> String {
        p.map { String(cString: $0) } ?? ""
    }

    private static func bytes(_ b: ProtobufCBinaryData) -> [UInt8] {
        guard b.len > 0, let data = b.data else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: b.len))
    }

    private static func buffer<T>(_ p: UnsafeMutablePointer<T>?, _ n: Int) -> UnsafeBufferPointer<T> {
        UnsafeBufferPointer(start: n > 0 ? p : nil, count: p == nil ? 0 : n)
    }

    // MARK: - Encoding

    /// Serializes a model. Builds the C structs in an arena that is freed
    /// when this returns.
    static func encode(_ model: ONNXModelProto) -> [UInt8] {
        let arena = Arena()
        defer { arena.freeAll() }
        let m: UnsafeMutablePointer<Onnx__ModelProto> = arena.message(onnx__model_proto__init)
        m.pointee.has_ir_version = 1
        m.pointee.ir_version = model.irVersion
        (m.pointee.n_opset_import, m.pointee.opset_import) = arena.array(model.opsetImports) { set in
            let p: UnsafeMutablePointer<Onnx__OperatorSetIdProto> = arena.message(onnx__operator_set_id_proto__init)
            p.pointee.domain = arena.string(set.domain)
            p.pointee.has_version = 1
            p.pointee.version = set.version
            return p
        }
        m.pointee.producer_name = arena.string(model.producerName)
        m.pointee.producer_version = arena.string(model.producerVersion)
        if !model.domain.isEmpty { m.pointee.domain = arena.string(model.domain) }
        m.pointee.has_model_version = 1
        m.pointee.model_version = model.modelVersion
        if !model.docString.isEmpty { m.pointee.doc_string = arena.string(model.docString) }
        (m.pointee.n_metadata_props, m.pointee.metadata_props) = arena.array(model.metadata) { encodeEntry($0, arena) }
        m.pointee.graph = encodeGraph(model.graph, arena)
        let size = onnx__model_proto__get_packed_size(m)
        var out = [UInt8](repeating: 0, count: size)
        let written = out.withUnsafeMutableBufferPointer { onnx__model_proto__pack(m, $0.baseAddress) }
        precondition(written == size, "protobuf-c packed \(written) of \(size) bytes")
        return out
    }

    private static func encodeEntry(_ e: ONNXMetadataEntry, _ arena: Arena) -> UnsafeMutablePointer<Onnx__StringStringEntryProto> {
        let p: UnsafeMutablePointer<Onnx__StringStringEntryProto> = arena.message(onnx__string_string_entry_proto__init)
        p.pointee.key = arena.string(e.key)
        p.pointee.value = arena.string(e.value)
        return p
    }

    private static func encodeGraph(_ g: ONNXGraphProto, _ arena: Arena) -> UnsafeMutablePointer<Onnx__GraphProto> {
        let p: UnsafeMutablePointer<Onnx__GraphProto> = arena.message(onnx__graph_proto__init)
        p.pointee.name = arena.string(g.name)
        if !g.docString.isEmpty { p.pointee.doc_string = arena.string(g.docString) }
        (p.pointee.n_node, p.pointee.node) = arena.array(g.nodes) { encodeNode($0, arena) }
        (p.pointee.n_initializer, p.pointee.initializer) = arena.array(g.initializers) { encodeTensor($0, arena) }
        (p.pointee.n_input, p.pointee.input) = arena.array(g.inputs) { encodeValueInfo($0, arena) }
        (p.pointee.n_output, p.pointee.output) = arena.array(g.outputs) { encodeValueInfo($0, arena) }
        (p.pointee.n_value_info, p.pointee.value_info) = arena.array(g.valueInfo) { encodeValueInfo($0, arena) }
        return p
    }

    private static func encodeNode(_ n: ONNXNodeProto, _ arena: Arena) -> UnsafeMutablePointer<Onnx__NodeProto> {
        let p: UnsafeMutablePointer<Onnx__NodeProto> = arena.message(onnx__node_proto__init)
        (p.pointee.n_input, p.pointee.input) = arena.array(n.inputs) { arena.string($0) }
        (p.pointee.n_output, p.pointee.output) = arena.array(n.outputs) { arena.string($0) }
        if !n.name.isEmpty { p.pointee.name = arena.string(n.name) }
        p.pointee.op_type = arena.string(n.opType)
        if !n.domain.isEmpty { p.pointee.domain = arena.string(n.domain) }
        (p.pointee.n_attribute, p.pointee.attribute) = arena.array(n.attributes) { encodeAttribute($0, arena) }
        return p
    }

    private static func encodeAttribute(_ a: ONNXAttribute, _ arena: Arena) -> UnsafeMutablePointer<Onnx__AttributeProto> {
        let p: UnsafeMutablePointer<Onnx__AttributeProto> = arena.message(onnx__attribute_proto__init)
        p.pointee.name = arena.string(a.name)
        p.pointee.has_type = 1
        func setType(_ raw: UInt32) { p.pointee.type = Onnx__AttributeProto__AttributeType(rawValue: raw) }
        switch a.value {
        case .float(let f): setType(1); p.pointee.has_f = 1; p.pointee.f = f
        case .int(let i): setType(2); p.pointee.has_i = 1; p.pointee.i = i
        case .string(let s): setType(3); p.pointee.has_s = 1; p.pointee.s = arena.binary(Array(s.utf8))
        case .tensor(let t): setType(4); p.pointee.t = encodeTensor(t, arena)
        case .floats(let v): setType(6); (p.pointee.n_floats, p.pointee.floats) = arena.array(v) { $0 }
        case .ints(let v): setType(7); (p.pointee.n_ints, p.pointee.ints) = arena.array(v) { $0 }
        case .strings(let v): setType(8); (p.pointee.n_strings, p.pointee.strings) = arena.array(v) { arena.binary(Array($0.utf8)) }
        case .unsupported(let t): setType(UInt32(bitPattern: t))
        }
        return p
    }

    private static func encodeTensor(_ t: ONNXTensorProto, _ arena: Arena) -> UnsafeMutablePointer<Onnx__TensorProto> {
        let p: UnsafeMutablePointer<Onnx__TensorProto> = arena.message(onnx__tensor_proto__init)
        (p.pointee.n_dims, p.pointee.dims) = arena.array(t.dims) { $0 }
        p.pointee.has_data_type = 1
        p.pointee.data_type = t.dataType
        p.pointee.name = arena.string(t.name)
        (p.pointee.n_float_data, p.pointee.float_data) = arena.array(t.floatData) { $0 }
        (p.pointee.n_int32_data, p.pointee.int32_data) = arena.array(t.int32Data) { $0 }
        (p.pointee.n_int64_data, p.pointee.int64_data) = arena.array(t.int64Data) { $0 }
        (p.pointee.n_double_data, p.pointee.double_data) = arena.array(t.doubleData) { $0 }
        if let raw = t.rawData {
            p.pointee.has_raw_data = 1
            p.pointee.raw_data = arena.binary(raw)
        }
        return p
    }

    private static func encodeValueInfo(_ v: ONNXValueInfo, _ arena: Arena) -> UnsafeMutablePointer<Onnx__ValueInfoProto> {
        let p: UnsafeMutablePointer<Onnx__ValueInfoProto> = arena.message(onnx__value_info_proto__init)
        p.pointee.name = arena.string(v.name)
        guard let elementType = v.elementType else { return p }
        let type: UnsafeMutablePointer<Onnx__TypeProto> = arena.message(onnx__type_proto__init)
        let tensor: UnsafeMutablePointer<Onnx__TypeProto__Tensor> = arena.message(onnx__type_proto__tensor__init)
        tensor.pointee.has_elem_type = 1
        tensor.pointee.elem_type = elementType
        if let dims = v.shape {
            let shape: UnsafeMutablePointer<Onnx__TensorShapeProto> = arena.message(onnx__tensor_shape_proto__init)
            (shape.pointee.n_dim, shape.pointee.dim) = arena.array(dims) { d in
                let dim: UnsafeMutablePointer<Onnx__TensorShapeProto__Dimension> = arena.message(onnx__tensor_shape_proto__dimension__init)
                switch d {
                case .value(let v):
                    dim.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                    dim.pointee.dim_value = v
                case .symbol(let s):
                    dim.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                    dim.pointee.dim_param = arena.string(s)
                case .unknown:
                    break
                }
                return dim
            }
            tensor.pointee.shape = shape
        }
        type.pointee.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
        type.pointee.tensor_type = tensor
        p.pointee.type = type
        return p
    }

    /// C memory for one encode, freed all at once.
    private final class Arena {
        private var blocks: [UnsafeMutableRawPointer] = []

        func raw(_ bytes: Int) -> UnsafeMutableRawPointer {
            let p = calloc(1, max(bytes, 1))!
            blocks.append(p)
            return p
        }

        /// A message struct initialised by its generated `_init` function.
        func message<T>(_ initialize: (UnsafeMutablePointer<T>?) -> Void) -> UnsafeMutablePointer<T> {
            let p = raw(MemoryLayout<T>.stride).bindMemory(to: T.self, capacity: 1)
            initialize(p)
            return p
        }

        func string(_ s: String) -> UnsafeMutablePointer<CChar> {
            let utf8 = Array(s.utf8CString)
            let p = raw(utf8.count).bindMemory(to: CChar.self, capacity: utf8.count)
            p.update(from: utf8, count: utf8.count)
            return p
        }

        func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
            let p = raw(bytes.count).bindMemory(to: UInt8.self, capacity: bytes.count)
            p.update(from: bytes, count: bytes.count)
            return ProtobufCBinaryData(len: bytes.count, data: p)
        }

        /// A C array (count, pointer) of `transform` applied to each element.
        func array<E, T>(_ elements: [E], _ transform: (E) -> T) -> (Int, UnsafeMutablePointer<T>?) {
            guard !elements.isEmpty else { return (0, nil) }
            let p = raw(MemoryLayout<T>.stride * elements.count).bindMemory(to: T.self, capacity: elements.count)
            for (i, e) in elements.enumerated() { (p + i).initialize(to: transform(e)) }
            return (elements.count, p)
        }

        func freeAll() {
            blocks.forEach { free($0) }
            blocks.removeAll()
        }
    }
}

/// protobuf-c allocation with a byte budget in `data[0]`; sets `data[1]` when
/// it refuses. Each block carries its size in a 16-byte header so `free` can
/// return it to the budget.
private func budgetedAlloc(_ data: UnsafeMutableRawPointer?, _ size: Int) -> UnsafeMutableRawPointer? {
    let budget = data!.assumingMemoryBound(to: Int.self)
    let total = size + 16
    guard size >= 0, total <= budget[0], let block = malloc(total) else {
        budget[1] = 1
        return nil
    }
    budget[0] -= total
    block.storeBytes(of: total, as: Int.self)
    return block + 16
}

private func budgetedFree(_ data: UnsafeMutableRawPointer?, _ pointer: UnsafeMutableRawPointer?) {
    guard let pointer else { return }
    let block = pointer - 16
    data!.assumingMemoryBound(to: Int.self)[0] += block.load(as: Int.self)
    free(block)
}
