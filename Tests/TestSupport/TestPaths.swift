import Foundation

/// Locations the tests share: the repository, its committed fixtures, the
/// shared MNIST data beside the clone, and scratch directories.
public enum TestPaths {
    /// The package root, found from this source file's location.
    public static let repoRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        // Tests/TestSupport/TestPaths.swift -> repo root
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    public static var fixtures: URL { repoRoot.appendingPathComponent("fixtures") }

    public static func fixture(_ name: String) -> String {
        fixtures.appendingPathComponent(name).path
    }

    /// `../shared/data/mnist` beside the clone, or `$MNIST_DIR`.
    public static var mnistDirectory: URL {
        if let env = ProcessInfo.processInfo.environment["MNIST_DIR"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        return repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data/mnist")
    }

    /// A fresh, empty directory under the system temporary directory.
    public static func temporaryDirectory(_ label: String = "test") -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("modelport-\(label)-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
