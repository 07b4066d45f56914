/// An iterative pass over the protobuf wire format of a `ModelProto` that
/// measures how deeply graphs nest inside node attributes, run before
/// protobuf-c unpacks the bytes.
///
/// protobuf-c's unpacker is recursive C: every `AttributeProto.g`/`graphs`
/// inside a `NodeProto` inside a `GraphProto` is three more stack frames, so a
/// 30 KB file nesting graphs a few thousand deep overflows the stack (SIGSEGV)
/// before any error can be reported. This scan keeps its own stack of message
/// ends and only descends into the fields on that recursive path
/// (Model.graph -> Graph.node -> Node.attribute -> Attribute.g / graphs);
/// every other field is skipped by its length.
enum ONNXNestingScan {
    /// Deepest graph nesting accepted: the main graph is level 1, a graph held
    /// by one of its nodes' attributes level 2, and so on. Real control-flow
    /// models (If/Loop/Scan) nest a handful of levels; protobuf-c (unoptimised)
    /// takes about 2.6 KB of stack per level, so 32 levels fit well inside
    /// even a 256 KB thread stack.
    static let maxGraphDepth = 32

    /// The messages on the recursive path.
    private enum Kind { case model, graph, node, attribute }

    /// What the scan found wrong.
    enum Problem: Error, Equatable {
        /// Graphs nest deeper than `maxGraphDepth`.
        case tooDeep
        /// The bytes are not well-formed protobuf (a length past the end, a
        /// truncated varint, a group or an unknown wire type).
        case malformed
    }

    /// Throws when graphs nest deeper than `maxGraphDepth` or the wire format
    /// is broken on the way there. Uses no recursion.
    static func check(_ bytes: [UInt8]) throws(Problem) {
        // (kind, end offset, graph depth) of each open message.
        var stack: [(kind: Kind, end: Int, graphDepth: Int)] = [(.model, bytes.count, 0)]
        var offset = 0
        while let top = stack.last {
            if offset == top.end {
                stack.removeLast()
                continue
            }
            let key = try varint(bytes, &offset, end: top.end)
            let field = key >> 3
            switch key & 7 {
            case 0: _ = try varint(bytes, &offset, end: top.end)
            case 1: try skip(8, &offset, end: top.end)
            case 5: try skip(4, &offset, end: top.end)
            case 2:
                let length = try varint(bytes, &offset, end: top.end)
                guard length <= UInt64(top.end - offset) else { throw .malformed }
                let end = offset + Int(length)
                guard let child = child(of: top.kind, field: field) else {
                    offset = end
                    continue
                }
                let depth = child == .graph ? top.graphDepth + 1 : top.graphDepth
                guard depth <= maxGraphDepth else { throw .tooDeep }
                stack.append((child, end, depth))
            default:
                // Groups (3, 4) and wire types 6, 7: protobuf-c refuses them too.
                throw .malformed
            }
        }
    }

    /// The kind of message a length-delimited field holds, when it lies on the
    /// recursive path (field numbers from onnx.proto).
    private static func child(of kind: Kind, field: UInt64) -> Kind? {
        switch (kind, field) {
        case (.model, 7): return .graph  // ModelProto.graph
        case (.graph, 1): return .node  // GraphProto.node
        case (.node, 5): return .attribute  // NodeProto.attribute
        case (.attribute, 6), (.attribute, 11): return .graph  // AttributeProto.g, .graphs
        default: return nil
        }
    }

    private static func varint(_ bytes: [UInt8], _ offset: inout Int, end: Int) throws(Problem) -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: UInt64(0), to: 70, by: 7) {
            guard offset < end else { throw .malformed }
            let byte = bytes[offset]
            offset += 1
            if shift < 64 { value |= UInt64(byte & 0x7F) << shift }
            if byte & 0x80 == 0 { return value }
        }
        throw .malformed  // more than 10 bytes
    }

    private static func skip(_ count: Int, _ offset: inout Int, end: Int) throws(Problem) {
        guard end - offset >= count else { throw .malformed }
        offset += count
    }
}
