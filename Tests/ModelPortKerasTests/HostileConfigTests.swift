import Foundation
@testable import ModelPortKeras
import ModelPortRuntime
import Testing

/// Keras model configs built to overflow shape arithmetic, nest without end
/// or declare more weights than memory holds: each is an error naming the
/// file and the layer, never a trap or an allocation the machine cannot make.
struct HostileConfigTests {
    /// A Sequential config: an input of `batchShape`, then `layers` (each
    /// `[class_name, config]`).
    static func sequential(_ batchShape: String, _ layers: [(String, String)], name: String = "hostile") -> String {
        let entries = [#"{"class_name": "InputLayer", "config": {"name": "input", "batch_shape": \#(batchShape)}}"#]
            + layers.enumerated().map { k, layer in
                #"{"class_name": "\#(layer.0)", "config": {"name": "\#(layer.0.lowercased())_\#(k + 1)", \#(layer.1)}}"#
            }
        return #"{"class_name": "Sequential", "config": {"name": "\#(name)", "layers": [\#(entries.joined(separator: ", "))]}}"#
    }

    static func importError(_ json: String) -> String {
        do {
            _ = try ModelLoader.model(fromConfig: json, file: "hostile.json")
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    // MARK: - Shape arithmetic (these trapped with SIGILL)

    @Test func reshapeTargetsBeyondAddressableSizesAreErrors() {
        let json = Self.sequential("[null, 28, 28, 1]", [
            ("Flatten", #""data_format": "channels_last""#),
            ("Reshape", #""target_shape": [16777216, 16777216, 16777216]"#),
        ])
        let message = Self.importError(json)
        #expect(message.hasPrefix("hostile.json: layer 'reshape_2' (Reshape), argument 'target_shape': target shape [16777216, 16777216, 16777216] has more elements than ModelPort accepts"),
                "\(message)")
    }

    @Test func growingLayersStopAtTheSampleCap() {
        // Each UpSampling2D multiplies height and width by 4096: the fifth
        // overflowed Int before any check.
        let upsampling = [(String, String)](repeating: ("UpSampling2D", #""size": [4096, 4096], "interpolation": "nearest""#), count: 5)
        let message = Self.importError(Self.sequential("[null, 28, 28, 1]", upsampling))
        #expect(message.hasPrefix("hostile.json: layer 'upsampling2d_1' (UpSampling2D): would produce [114688, 114688, 1]"), "\(message)")
        #expect(message.contains("larger than ModelPort accepts"), "\(message)")
        // Flatten and RepeatVector, repeated, reach 2^63 the same way.
        let repeats = [(String, String)](repeating: ("Flatten", #""data_format": "channels_last""#), count: 3).flatMap {
            [$0, ("RepeatVector", #""n": 1048576"#)]
        } + [("Flatten", #""data_format": "channels_last""#)]
        let repeated = Self.importError(Self.sequential("[null, 784]", repeats))
        #expect(repeated.hasPrefix("hostile.json: layer 'repeatvector_4' (RepeatVector): would produce [1048576, 822083584]"), "\(repeated)")
    }

    // MARK: - Bounded recursion

    /// Sequential models each holding the next as a layer, `depth` in all.
    static func nested(_ depth: Int) -> String {
        var inner = sequential("[null, 4]", [("Dense", #""units": 4"#)], name: "level\(depth)")
        for level in stride(from: depth - 1, through: 1, by: -1) {
            let layers = [#"{"class_name": "InputLayer", "config": {"name": "input", "batch_shape": [null, 4]}}"#, inner]
            inner = #"{"class_name": "Sequential", "config": {"name": "level\#(level)", "layers": [\#(layers.joined(separator: ", "))]}}"#
        }
        return inner
    }

    @Test func nestedModelsAreBounded() throws {
        let deep = Self.importError(Self.nested(KerasModelConfig.maxModelDepth + 1))
        #expect(deep == "hostile.json: layer 'level17' (Sequential): models are nested more than 16 deep", "\(deep)")
        // As deep as allowed still imports, and computes what one Dense layer does.
        let model = try ModelLoader.model(fromConfig: Self.nested(KerasModelConfig.maxModelDepth), file: "nested.json")
        #expect(model.inputShape == [4] && model.outputShape == [4])
    }

    // MARK: - Weights checked before allocation

    static let threeDense = sequential("[null, 64]", [(String, String)](repeating: ("Dense", #""units": 64"#), count: 3))

    static func build(_ json: String, limit: Int) throws -> WeightBudget {
        var weights = WeightBudget(limit: limit)
        _ = try KerasModelConfig.buildModel(JSONValue.parse(json), file: "weights.json", kerasMajorVersion: 3, weights: &weights, depth: 1)
        return weights
    }

    @Test func declaredWeightsAreSummedAgainstTheLimit() throws {
        // Three Dense(64) layers on 64 features: kernels of 16 KB, biases of 256 bytes.
        let each = 64 * 64 * 4 + 64 * 4
        #expect(try Self.build(Self.threeDense, limit: 3 * each).used == 3 * each)
        let error = #expect(throws: KerasImportError.self) { try Self.build(Self.threeDense, limit: 3 * each - 1) }
        #expect(error?.layer == "dense_3")
        #expect(error?.argument == "units")
        #expect(error?.description.contains("brings the model's weights to 48.8 KB, more than the memory limit") == true, "\(String(describing: error))")
        // A nested model's weights count toward its parent's.
        #expect(try Self.build(Self.nested(3), limit: 1 << 20).used == 4 * 4 * 4 + 4 * 4)
    }

    @Test func everyWeightOfALayerIsCounted() throws {
        // SeparableConv2D on 8x8x4 with 3x3 windows: the depthwise kernel (144
        // bytes) counts, not only the pointwise kernel and bias.
        let json = Self.sequential("[null, 8, 8, 4]", [("SeparableConv2D", #""filters": 2, "kernel_size": 3"#)])
        let pointwiseAndBias = 4 * 2 * 4 + 2 * 4
        #expect(try Self.build(json, limit: 1 << 20).used == 3 * 3 * 4 * 4 + pointwiseAndBias)
        #expect(throws: KerasImportError.self) { try Self.build(json, limit: pointwiseAndBias) }
        // So do normalization statistics.
        let normalization = Self.sequential("[null, 16]", [("BatchNormalization", #""axis": -1"#)])
        #expect(try Self.build(normalization, limit: 1 << 20).used == 4 * 16 * 4)
    }
}

extension HostileConfigTests {
    @Test func deeplyNestedJSONOnASmallStack() throws {
        // JSON nested as deep as the parser allows, decoded on a thread with a
        // 512 KB stack (what a server's worker thread may have).
        final class Outcomes: @unchecked Sendable { var messages: [String] = [] }
        let outcomes = Outcomes()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            // Two JSON levels per step: up to the limit, just past it, just
            // inside Foundation's own limit of 512 (this overflowed the
            // stack: SIGSEGV), and far past everything.
            for depth in [JSONValue.maxDepth / 2, JSONValue.maxDepth / 2 + 1, 250, 100_000] {
                let json = String(repeating: #"{"a": ["#, count: depth) + String(repeating: "]}", count: depth)
                outcomes.messages.append(HostileConfigTests.importError(json))
            }
            done.signal()
        }
        thread.stackSize = 512 << 10
        thread.start()
        done.wait()
        #expect(outcomes.messages.count == 4)
        for message in outcomes.messages { #expect(message.hasPrefix("hostile.json: "), "\(message)") }
        // At the limit the text parses (and is then no model config); past it, it is refused before decoding.
        #expect(try JSONValue.parse(String(repeating: "[", count: JSONValue.maxDepth) + String(repeating: "]", count: JSONValue.maxDepth)) != .null)
        #expect(throws: JSONValue.TooDeep.self) { try JSONValue.parse(String(repeating: "[", count: JSONValue.maxDepth + 1)) }
        // Brackets inside strings do not count.
        #expect(try JSONValue.parse(#"{"a": "[[[[\"[[[["}"#)["a"]?.string == #"[[[["[[[["#)
    }
}
