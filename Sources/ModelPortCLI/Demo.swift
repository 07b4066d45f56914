import ArgumentParser
import Foundation
import ModelPortReports
import ModelPortFormats
import ModelPortKeras
import ModelPortRuntime
import ModelPortValidation

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The main job on the bundled default: load the Keras-trained MNIST model, predict sample digits, validate against Keras.",
        discussion: """
            With no arguments, uses fixtures/mnist_digit_model.h5 (trained and saved by Keras 3 \
            with tools/make_fixtures.py) and its reference file of 200 MNIST test digits with \
            Keras's own predictions. The fixtures are looked for in $MODELPORT_FIXTURES, ./fixtures, \
            and the fixtures/ folder of the checkout the executable was built in.
            """)

    @Option(help: "A Keras model file to use instead of the bundled one.")
    var model: String?

    @Option(help: "Its reference file (default: the model's name with .reference.h5).")
    var reference: String?

    @Option(help: "How many sample digits to draw and predict.")
    var samples: Int = 4

    func run() throws {
        var passed = false
        try runReportingErrors {
            let modelPath = try model ?? DefaultFixtures.locate("mnist_digit_model.h5")
            let referencePath = reference ?? (modelPath.hasSuffix(".h5") ? String(modelPath.dropLast(3)) : modelPath) + ".reference.h5"
            let file = try loadModel(modelPath)
            let m = file.model
            print("ModelPort demo")
            print("Model:  \(modelPath)")
            print("        \(file.format.rawValue)" + (file.kerasVersion.map { ", Keras \($0)" } ?? "")
                  + ": \"\(m.name)\", \(m.layers.count) layers, \(grouped(m.parameterCount)) parameters, input \(kerasShape(m.inputShape)) -> \(kerasShape(m.outputShape))")

            let ref = try readReference(referencePath)
            let start = Date()
            let outputs = try m.predict(ref.inputs)
            let seconds = Date().timeIntervalSince(start)
            let classes = argmaxPerSample(outputs)

            let shown = ref.inputs.sampleCount == 28 * 28 ? min(max(samples, 0), ref.inputs.batchCount) : 0
            if shown > 0 {
                print("\nSample digits (the first \(shown) of the reference set) and what the model says:")
                let pictures = (0..<shown).map { DigitArt.render(Array(ref.inputs.sample($0)), side: 28) }
                for line in 0..<(pictures.first?.count ?? 0) {
                    print("  " + pictures.map { $0[line] }.joined(separator: "   "))
                }
                let captions = (0..<shown).map { s -> String in
                    let p = outputs.sample(s)[outputs.sample(s).startIndex + classes[s]]
                    var text = "→ \(classes[s]) (\(String(format: "%.1f", Double(p) * 100))%)"
                    if let l = ref.labels { text += l[s] == classes[s] ? " ✓" : " ✗ label \(l[s])" }
                    return text.padding(toLength: 28, withPad: " ", startingAt: 0)
                }
                print("  " + captions.joined(separator: "   "))
            }

            print("\nValidation against Keras's own outputs (\(String(format: "%.1f", seconds * 1000)) ms for \(ref.inputs.batchCount) images):")
            let result = try Comparison(actual: outputs, expected: ref.outputs, labels: ref.labels)
            print(ComparisonReport.text(result, modelPath: modelPath, referencePath: referencePath))
            passed = result.passed
        }
        if !passed { throw ExitCode(1) }
    }
}

/// Finds the committed fixtures without being told where the checkout is.
enum DefaultFixtures {
    static func locate(_ name: String) throws -> String {
        var candidates: [String] = []
        if let dir = ProcessInfo.processInfo.environment["MODELPORT_FIXTURES"], !dir.isEmpty {
            candidates.append((dir as NSString).appendingPathComponent(name))
        }
        candidates.append((FileManager.default.currentDirectoryPath as NSString).appendingPathComponent("fixtures/\(name)"))
        // The executable lives in <checkout>/.build/<config>/modelport: walk up.
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        }
        for _ in 0..<6 {
            candidates.append(dir.appendingPathComponent("fixtures/\(name)").path)
            dir.deleteLastPathComponent()
        }
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
        throw CLIError("""
            cannot find the bundled fixture \(name).
            Looked in: \(candidates.joined(separator: ", "))
            Run from the ModelPort checkout, set MODELPORT_FIXTURES, or pass --model and --reference.
            """)
    }
}

/// Draws a grayscale image in [0, 1] as text, two pixel rows per line.
enum DigitArt {
    static func render(_ pixels: [Float], side: Int) -> [String] {
        let ramp = Array(" .:-=+*#%@")
        return stride(from: 0, to: side, by: 2).map { y in
            String((0..<side).map { x -> Character in
                let a = pixels[y * side + x], b = y + 1 < side ? pixels[(y + 1) * side + x] : 0
                let v = max(0, min(1, (a + b) / 2))
                return ramp[min(ramp.count - 1, Int(v * Float(ramp.count - 1) + 0.5))]
            })
        }
    }
}
