import ArgumentParser
import Foundation
import ModelPortReports
import ModelPortFormats
import ModelPortFiles
import ModelPortKeras
import ModelPortRuntime
import ModelPortValidation

/// Prints a user-facing error for a failure that is not a usage mistake and
/// exits with status 2 (1 is reserved for "outputs differ").
func runReportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        printError("error: \(error)")
        throw ExitCode(2)
    }
}

/// A failure the CLI itself detects, with a message for the user.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Writes `message` to standard error with control characters escaped (a
/// file name from a stranger must not drive the terminal).
func printError(_ message: String) {
    let safe = DisplayPath.escapingControlCharacters(message, keepNewlines: true)
    FileHandle.standardError.write(Data((safe + "\n").utf8))
}

/// `(None, 26, 26, 32)`, as Keras prints shapes.
func kerasShape(_ sample: [Int]) -> String {
    "(" + (["None"] + sample.map(String.init)).joined(separator: ", ") + ")"
}


/// A value in scientific notation with 2 decimals (`2.38e-07`).
func sci(_ x: Float) -> String { x.isFinite ? String(format: "%.2e", Double(x)) : "\(x)" }

/// A percentage with one decimal.
func percent(_ part: Int, _ whole: Int) -> String {
    whole == 0 ? "n/a" : String(format: "%.1f%%", 100 * Double(part) / Double(whole))
}

/// Left/right-aligned plain-text table.
struct TextTable {
    var headers: [String]
    var rightAligned: Set<Int> = []
    var rows: [[String]] = []

    func render() -> String {
        var widths = headers.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: widths[i] - c.count)
                return rightAligned.contains(i) ? pad + c : c + pad
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        let rule = String(repeating: "─", count: widths.reduce(0, +) + 2 * (widths.count - 1))
        return ([line(headers), rule] + rows.map(line) + [rule]).joined(separator: "\n")
    }
}

/// Loads a model file of any supported format (Keras .h5/.keras, ONNX .onnx),
/// turning any failure into an error that names it.
func loadModel(_ path: String) throws -> AnyModelFile {
    try AnyModelFile.load(path)
}

/// Reads a reference file (in an isolated process with `--untrusted`).
func readReference(_ path: String) throws -> ReferenceData {
    Untrusted.enabled ? try Untrusted.readReference(path) : try ReferenceData.read(path)
}
