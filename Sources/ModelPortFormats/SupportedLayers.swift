import ModelPortKeras
import ModelPortONNX

/// Which layers ModelPort reads and writes, family by family, taken from the
/// two codec tables (`KerasCodecs.families`, `ONNXCodecs.families`): the
/// README's supported-layer table is this text, and a test keeps them equal.
public enum SupportedLayers {
    public struct Family: Sendable, Equatable {
        public let name: String
        /// Keras class names read and written (aliases included).
        public let kerasClasses: [String]
        /// ONNX operators read.
        public let onnxImports: [String]
        /// Keras classes read whose runtime layer has no ONNX export.
        public let notWrittenToONNX: [String]
    }

    /// Every family of either table, in the Keras table's order, ONNX-only ones last.
    public static var families: [Family] {
        let onnx = Dictionary(ONNXCodecs.familySummaries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var result = KerasCodecs.families.map { k in
            Family(name: k.name, kerasClasses: k.codecs.flatMap(\.classNames).sorted(), onnxImports: onnx[k.name]?.imports ?? [],
                   notWrittenToONNX: k.codecs.filter { !ONNXCodecs.canExport($0.layerType) }.flatMap(\.classNames).sorted())
        }
        let kerasNames = Set(KerasCodecs.families.map(\.name))
        for o in ONNXCodecs.familySummaries where !kerasNames.contains(o.name) {
            result.append(Family(name: o.name, kerasClasses: [], onnxImports: o.imports, notWrittenToONNX: []))
        }
        return result
    }

    /// The README table (Markdown), between its generated-text markers.
    public static var markdown: String {
        func code(_ names: [String]) -> String { names.isEmpty ? "—" : names.map { "`\($0)`" }.joined(separator: ", ") }
        var lines = ["| family | Keras layers, read and written (aliases included) | ONNX operators read | Keras layers not written to ONNX |", "|---|---|---|---|"]
        for f in families {
            lines.append("| \(title(f.name)) | \(code(f.kerasClasses)) | \(code(f.onnxImports)) | \(f.notWrittenToONNX.isEmpty ? "" : code(f.notWrittenToONNX)) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// "graphArithmetic" -> "Graph arithmetic".
    private static func title(_ name: String) -> String {
        var words: [String] = []
        var word = ""
        for ch in name {
            if ch.isUppercase, !word.isEmpty { words.append(word); word = "" }
            word.append(Character(ch.lowercased()))
        }
        words.append(word)
        let text = words.joined(separator: " ")
        return text.prefix(1).uppercased() + text.dropFirst()
    }
}
