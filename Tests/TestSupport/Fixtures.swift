import Foundation

/// The committed Keras-made fixtures, as listed in fixtures/manifest.json
/// (written by tools/make_fixtures.py).
public struct Fixture: Sendable, CustomStringConvertible {
    public let stem: String
    /// "keras3" or "keras2".
    public let writer: String
    /// Saved with its optimizer (and so with a training_config).
    public let includesOptimizer: Bool
    public var modelPath: String { TestPaths.fixture(stem + ".h5") }
    public var referencePath: String { TestPaths.fixture(stem + ".reference.h5") }
    public var description: String { stem }

    /// Every model in the manifest. Traps if the manifest is missing, so a
    /// lost fixture directory fails loudly instead of testing nothing.
    public static let all: [Fixture] = {
        let url = TestPaths.fixtures.appendingPathComponent("manifest.json")
        guard let data = try? Data(contentsOf: url),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: [String: Any]] else {
            fatalError("cannot read \(url.path): run tools/make_fixtures.py")
        }
        return object.keys.sorted().map { Fixture(stem: $0, writer: object[$0]?["writer"] as? String ?? "?",
                                           includesOptimizer: object[$0]?["include_optimizer"] as? Bool ?? false) }
    }()
}
