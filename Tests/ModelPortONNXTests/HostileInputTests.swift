import Foundation
import ModelPortKeras
import ModelPortONNX
import ModelPortRuntime
import Testing
import TestSupport

/// Broken, truncated and hostile ONNX files give a clear error naming the
/// file and the problem — never a crash or a huge allocation.
struct HostileInputTests {
    static let directory = TestPaths.temporaryDirectory("onnx-hostile")

    static func write(_ bytes: [UInt8], _ name: String) -> String {
        let path = directory.appendingPathComponent(name).path
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    static func exported() throws -> ONNXModelProto {
        let keras = try ModelLoader.load(Fixture.all.first { $0.stem == "mnist_mlp" }!.modelPath)
        return try ONNXExporter.export(keras.model)
    }

    static func loadError(_ path: String) -> String {
        do {
            _ = try ONNXImporter.load(path)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func emptyMissingAndDirectory() throws {
        let empty = Self.write([], "empty.onnx")
        #expect(Self.loadError(empty) == "\(empty): the file is empty")
        #expect(Self.loadError(Self.directory.path + "/missing.onnx").hasSuffix("missing.onnx: no such file"))
        #expect(Self.loadError(Self.directory.path).contains("is a directory"))
    }

    @Test func garbageAndTruncatedBytes() throws {
        let garbage = Self.write(Array("this is not a protobuf at all \u{1}\u{2}\u{3}".utf8) + [0xFF, 0xFF, 0xFF], "garbage.onnx")
        #expect(Self.loadError(garbage).contains("not a valid ONNX protobuf"))
        let bytes = ONNXExporter.serialize(try Self.exported())
        for cut in [1, 17, bytes.count / 2, bytes.count - 3] {
            let path = Self.write(Array(bytes.prefix(cut)), "truncated_\(cut).onnx")
            let message = Self.loadError(path)
            #expect(message.hasPrefix(path), "\(message)")
            #expect(message != "no error")
        }
    }

    @Test func absurdTensorSizeIsRefusedBeforeAllocating() throws {
        var proto = try Self.exported()
        // An initializer claiming 2^40 elements (with no data behind it).
        var huge = ONNXTensorProto(name: proto.graph.initializers[0].name, dims: [1 << 20, 1 << 20], dataType: 1)
        huge.rawData = [0, 0, 0, 0]
        proto.graph.initializers[0] = huge
        let path = Self.write(ONNXExporter.serialize(proto), "huge.onnx")
        let message = Self.loadError(path)
        #expect(message.contains("larger than ModelPort accepts"), "\(message)")
        // Data that does not fill the declared shape.
        var short = ONNXTensorProto(name: huge.name, dims: [784, 128], dataType: 1)
        short.rawData = [0, 0, 0, 0]
        proto.graph.initializers[0] = short
        #expect(Self.loadError(Self.write(ONNXExporter.serialize(proto), "short.onnx")).contains("bytes of data for 100352 elements"))
    }

    @Test func decodingMemoryIsBounded() throws {
        // 4 million empty NodeProtos (2 bytes each on the wire) would expand to
        // hundreds of megabytes of C structs; the budgeted allocator refuses.
        let nodes = [UInt8](repeating: 0, count: 8_000_000).enumerated().map { $0.offset % 2 == 0 ? UInt8(0x0A) : 0 }
        var graph: [UInt8] = [0x3A]  // field 7 (graph), length-delimited
        var length = nodes.count
        while length >= 0x80 { graph.append(UInt8(length & 0x7F) | 0x80); length >>= 7 }
        graph.append(UInt8(length))
        let path = Self.write(graph + nodes, "many_nodes.onnx")
        let message = Self.loadError(path)
        #expect(message.contains("more memory than ModelPort allows"), "\(message)")
    }

    @Test func unsupportedOperatorOpsetAndAttributeAreNamed() throws {
        var proto = try Self.exported()
        proto.graph.nodes[1].opType = "Einsum"
        let op = Self.loadError(Self.write(ONNXExporter.serialize(proto), "einsum.onnx"))
        #expect(op.contains("operator 'Einsum' is not supported"), "\(op)")
        proto = try Self.exported()
        proto.opsetImports = [ONNXOperatorSet(domain: "", version: 5)]
        #expect(Self.loadError(Self.write(ONNXExporter.serialize(proto), "opset5.onnx")).contains("opset 5 is not supported"))
        proto.opsetImports = [ONNXOperatorSet(domain: "", version: 29)]
        #expect(Self.loadError(Self.write(ONNXExporter.serialize(proto), "opset29.onnx")).contains("opset 29 is not supported"))
        proto = try Self.exported()
        let gemm = try #require(proto.graph.nodes.firstIndex { $0.opType == "Gemm" })
        proto.graph.nodes[gemm].attributes.append(ONNXAttribute("transA", .int(1)))
        let attribute = Self.loadError(Self.write(ONNXExporter.serialize(proto), "transA.onnx"))
        #expect(attribute.contains("transA=1 is not supported"), "\(attribute)")
        #expect(attribute.contains("(Gemm)"))
        proto = try Self.exported()
        proto.graph.nodes[gemm].domain = "com.example"
        #expect(Self.loadError(Self.write(ONNXExporter.serialize(proto), "domain.onnx")).contains("domain 'com.example'"))
    }
}
