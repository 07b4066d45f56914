import Foundation
import ModelPortHDF5
@testable import ModelPortKeras
import ModelPortRuntime
import Testing
import TestSupport

/// The coverage fixtures' model configs with one layer argument at a time
/// set to values that break shape arithmetic: every variant builds or fails
/// with an error naming the file, never traps. (Weights are limited to
/// 16 MB, so variants that ask for a gigabyte of zeros are refused quickly.)
struct ConfigSweepTests {
    static let extremes: [JSONValue] = [
        .number(-1e15 + 1), .number(-1), .number(0), .number(2_147_483_648), .number(0x1p40), .number(1e15 - 1), .number(1e300),
        .number(.nan), .number(.infinity), .string("x"), .null, .bool(true),
    ]

    static func configs() throws -> [(String, JSONValue)] {
        try ["cov_conv", "cov_merge", "cov_residual", "cov_dense", "cov_conv_keras2"].map { stem in
            let file = try HDF5File(openingAt: TestPaths.fixture("coverage/\(stem).h5"), mode: .readOnly)
            return (stem, try JSONValue.parse(file.root.readStringAttribute("model_config")))
        }
    }

    /// `value` with the layer list's layer `index`, config key `key`, set to `replacement`.
    static func replacing(_ value: JSONValue, layer index: Int, key: String, with replacement: JSONValue) -> JSONValue {
        guard case .object(var top) = value, case .object(var config)? = top["config"], case .array(var layers)? = config["layers"],
              case .object(var layer) = layers[index], case .object(var arguments)? = layer["config"] else { return value }
        arguments[key] = replacement
        layer["config"] = .object(arguments)
        layers[index] = .object(layer)
        config["layers"] = .array(layers)
        top["config"] = .object(config)
        return .object(top)
    }

    /// Every single-argument variant of a config.
    static func variants(_ config: JSONValue) -> [JSONValue] {
        var out: [JSONValue] = []
        for (index, layer) in (config["config"]?["layers"]?.array ?? []).enumerated() {
            for (key, value) in layer["config"]?.object ?? [:] where key != "name" {
                var replacements: [JSONValue] = []
                switch value {
                case .number, .bool: replacements = extremes
                case .array(let list):
                    replacements = [.array([])] + extremes.flatMap { e in
                        [.array([e]), .array([JSONValue](repeating: e, count: max(list.count, 2))), .array([.null] + [JSONValue](repeating: e, count: 3))]
                    }
                default: continue
                }
                out += replacements.map { replacing(config, layer: index, key: key, with: $0) }
            }
        }
        return out
    }

    @Test func extremeArgumentsNeverTrap() throws {
        var refused = 0
        for (stem, config) in try Self.configs() {
            for variant in Self.variants(config) {
                do {
                    var weights = WeightBudget(limit: 16 << 20)
                    _ = try KerasModelConfig.buildModel(variant, file: stem, kerasMajorVersion: 3, weights: &weights, depth: 1)
                } catch let error as KerasImportError {
                    #expect(error.file == stem)
                    refused += 1
                }
            }
        }
        #expect(refused > 500, "\(refused) refused")
    }
}
