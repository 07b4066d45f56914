import Foundation
import ModelPortFormats
import ModelPortKeras
import ModelPortONNX
import Testing
import TestSupport

/// The README's supported-layer table is generated from the codec tables.
struct SupportedLayersTests {
    static let begin = "<!-- supported-layers: generated from KerasCodecs and ONNXCodecs by SupportedLayers.markdown; "
        + "refresh with MODELPORT_UPDATE_README=1 swift test --filter SupportedLayersTests -->\n"
    static let end = "<!-- end supported-layers -->"

    @Test func readmeTableIsTheGeneratedOne() throws {
        let url = TestPaths.repoRoot.appendingPathComponent("README.md")
        let readme = try String(contentsOf: url, encoding: .utf8)
        let start = try #require(readme.range(of: Self.begin), "README.md has no generated supported-layer table")
        let stop = try #require(readme.range(of: Self.end, range: start.upperBound..<readme.endIndex))
        let current = String(readme[start.upperBound..<stop.lowerBound])
        if current != SupportedLayers.markdown, ProcessInfo.processInfo.environment["MODELPORT_UPDATE_README"] == "1" {
            try (readme[..<start.upperBound] + SupportedLayers.markdown + readme[stop.lowerBound...]).write(to: url, atomically: true, encoding: .utf8)
            return
        }
        #expect(current == SupportedLayers.markdown, "README.md's table is stale: run MODELPORT_UPDATE_README=1 swift test --filter SupportedLayersTests")
    }

    @Test func everyClassAndOperatorIsListedOnce() {
        let families = SupportedLayers.families
        let classes = families.flatMap(\.kerasClasses)
        #expect(Set(classes) == Set(KerasCodecs.supportedClassNames) && classes.count == Set(classes).count)
        let ops = families.flatMap(\.onnxImports)
        #expect(Set(ops) == Set(ONNXCodecs.supportedOps) && ops.count == Set(ops).count)
        #expect(SupportedLayers.markdown.contains("| Convolutions | `Conv2D`"))
    }
}
