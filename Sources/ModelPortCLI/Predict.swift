import ArgumentParser
import Foundation
import ModelPortFormats
import ModelPortFiles
import ModelPortImage
import ModelPortReports
import ModelPortRuntime
import ModelPortValidation

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict the digit in image files, or the class of each sample in a reference or MNIST IDX file.",
        discussion: """
            Images (PNG, JPEG, PGM; a photo, a scan or a drawing of one digit) are turned into \
            what an MNIST model expects, the way MNIST itself was made: converted to grayscale \
            (transparent parts over a contrasting background), inverted when the background is \
            light (MNIST digits are white on black), cropped to the digit, scaled so its longer \
            side is 20 pixels with the aspect ratio kept, and placed in 28x28 with its centre \
            of mass in the middle. --show-preprocessed writes that 28x28 picture so you can see \
            what the model saw.

            A directory argument predicts every image in it and prints a CSV \
            (file, predicted, confidence, p0…p9), or writes it to --csv FILE.

            --input FILE instead reads samples from a reference file (HDF5 with an 'inputs' \
            dataset, see 'modelport validate --help') or an MNIST IDX image file, gzipped or not; \
            for an IDX file named like MNIST's (…-images-idx3-ubyte), the labels file beside it \
            is used to report accuracy.

            A model with several inputs takes a reference file with a dataset \
            inputs/<input name> for each (see 'modelport validate --help'; 'modelport inspect' \
            lists the names). A model with several outputs prints one column per output: \
            class (probability) for an output of several elements, the value for a \
            one-element output; --json gives each prediction 'outputs': {name: {values, \
            class}} instead of class/probabilities/top, and --output writes each output's \
            class (or value) comma-separated, one line per sample. --csv FILE with --input writes index, label \
            (when known), and per output <name>_class (several elements) and every element \
            as <name>_0, <name>_1, ...

            --json prints one object: model, and predictions, one per sample: file (images) or \
            index and label (--input), class (null for a NaN output), probabilities, top \
            (class and probability); with --input labels, the accuracy too.

            Examples:
              modelport predict fixtures/mnist_digit_model.h5 my_digit.png
              modelport predict model.h5 photo.jpg --output output.txt --show-preprocessed seen.png
              modelport predict model.h5 fixtures/images/3/ --csv predictions.csv
              modelport predict model.h5 a.png b.pgm --json
              modelport predict fixtures/mnist_digit_model.h5 --input fixtures/mnist_digit_model.reference.h5 --limit 5
              modelport predict model.h5 --input ../shared/data/mnist/t10k-images-idx3-ubyte.gz --top 3
            """)

    @OptionGroup var modelFile: ModelFileArgument
    var model: String { modelFile.model }

    @Argument(help: ArgumentHelp("Image files (.png, .jpg, .pgm) or directories of them.", valueName: "image"))
    var images: [String] = []

    @Option(name: .shortAndLong, help: "Samples to predict: a reference .h5 file or an IDX image file (.gz or raw).")
    var input: String?

    @Option(help: "IDX labels for an IDX image file (default: the matching MNIST labels file beside it).")
    var labels: String?

    @Option(help: "Predict only the first N samples of --input.")
    var limit: Int?

    @Option(help: "How many of the most probable classes to show per sample.")
    var top: Int = 3

    @OptionGroup var format: OutputFormatOptions
    var json: Bool { format.json }

    @Option(help: ArgumentHelp("Write the predicted class to this file (one line per image), as the tutorials' output.txt.", valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("Write the 28x28 image the model saw (PNG, or PGM for a .pgm name). With several images: a directory, one <name>.png each.", valueName: "file"))
    var showPreprocessed: String?

    @Option(help: ArgumentHelp("Write the predictions as CSV to this file (images: file, predicted, confidence, p0...; --input: index, label, then each output's class and elements).", valueName: "file"))
    var csv: String?

    @Option(help: ArgumentHelp("Write this layer's activations for every sample to --dump-file (HDF5 dataset layers/<layer>, as in reference files).", valueName: "layer"))
    var dump: String?

    @Option(help: ArgumentHelp("Where --dump writes (default: <layer>.activations.h5).", valueName: "file"))
    var dumpFile: String?

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if top < 1 { throw ValidationError("--top must be at least 1") }
        if input == nil && images.isEmpty { throw ValidationError("give image files or a directory, or --input FILE") }
        if input != nil && !images.isEmpty { throw ValidationError("give image files or --input FILE, not both") }
        if input != nil && showPreprocessed != nil {
            throw ValidationError("--show-preprocessed applies to image files, not --input")
        }
    }

    @OptionGroup var trust: TrustOptions

    func run() throws {
        trust.apply()
        try runReportingErrors {
            runtime.apply()
            if let input { try predictSamples(input) } else { try predictImages() }
        }
    }

    // MARK: - Image files

    private func predictImages() throws {
        let file = try modelFile.load()
        var paths: [String] = []
        var sawDirectory = false
        for path in images {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                let inside = ImageFolder.imageFiles(in: path)
                guard !inside.isEmpty else { throw CLIError("\(path): the directory holds no PNG, JPEG or PGM images") }
                paths += inside
                sawDirectory = true
            } else {
                paths.append(path)
            }
        }
        let preprocess = MNISTPreprocessor()
        let results = try paths.map { try preprocess(file: $0) }
        let shape = file.model.inputShape
        guard shape.reduce(1, *) == 28 * 28 else {
            throw CLIError("\(model): the model takes inputs of shape \(shape); images are preprocessed to 28x28 MNIST digits")
        }
        try MemoryBudget.checkInference(file.model, batch: results.count, file: model)
        let batch = Tensor(shape: [results.count] + shape, scalars: results.flatMap { $0.image.pixels })
        let outputs = try file.model.predict(batch)
        if let dump { try writeDump(file.model, [batch], dump) }
        let classes = PredictedClasses(outputs)
        let ranked = classes.ranked(top: top)

        if let showPreprocessed { try writePreprocessed(results, paths: paths, to: showPreprocessed) }
        if let output {
            try writeAtomically(classes.texts.joined(separator: "\n") + "\n", to: output)
        }
        let csvText = classes.csv(names: paths)
        if let csv { try writeAtomically(csvText, to: csv) }

        if json {
            let predictions: [[String: Any]] = paths.indices.map { i in
                ["file": paths[i], "class": classes.json(i), "inverted": results[i].inverted,
                 "probabilities": outputs.sample(i).map(PredictedClasses.json),
                 "top": classes[i] == nil ? [] : ranked[i].map { ["class": $0.0, "probability": PredictedClasses.json($0.1)] }]
            }
            let data = try JSONSerialization.data(withJSONObject: ["model": model, "predictions": predictions], options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else if sawDirectory && csv == nil {
            print(csvText, terminator: "")
        } else {
            if paths.count == 1 {
                print("The 28x28 image the model saw\(results[0].inverted ? " (light background: inverted)" : ""):")
                DigitArt.render(results[0].image.pixels, side: 28).forEach { print("  " + $0) }
                print("")
            }
            var table = TextTable(headers: ["image", "digit", "top \(ranked.first?.count ?? 0) (class: probability)"], rightAligned: [1])
            for i in paths.indices {
                table.rows.append([paths[i], classes.text(i),
                                   classes[i] == nil ? PredictedClasses.noPrediction
                                       : ranked[i].map { "\($0.0): \(String(format: "%.4f", Double($0.1)))" }.joined(separator: "  ")])
            }
            print(table.render())
        }
        try classes.failIfNaN(model: model, samples: paths)
    }

    private func writePreprocessed(_ results: [MNISTPreprocessor.Result], paths: [String], to target: String) throws {
        func save(_ image: GrayImage, _ path: String) throws {
            if path.lowercased().hasSuffix(".pgm") {
                try AtomicFile.write(Data(PGMCodec.encode(image.pixelImage)), to: path)
            } else {
                try PNGCodec.write(image.pixelImage, to: path)
            }
        }
        if results.count == 1 {
            try save(results[0].image, target)
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        } catch {
            throw CLIError("\(target): cannot create the directory for --show-preprocessed (\(error.localizedDescription))")
        }
        var used: Set<String> = []
        for (result, path) in zip(results, paths) {
            var name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            while used.contains(name) { name += "_" }
            used.insert(name)
            try save(result.image, (target as NSString).appendingPathComponent(name + ".png"))
        }
    }

    private func writeAtomically(_ text: String, to path: String) throws {
        try AtomicFile.write(Data(text.utf8), to: path)
    }

    /// - Parameter inputs: one tensor per model input.
    private func writeDump(_ model: any Model, _ inputs: [Tensor], _ layer: String) throws {
        let path = dumpFile ?? "\(layer).activations.h5"
        let n = inputs.first?.batchCount ?? 0
        try MemoryBudget.check(MemoryEstimate.layerOutputsBytes(model, batch: n),
                               for: "\(self.model): every layer's output for --dump on a batch of \(n)")
        try LayerDump.write(model: model, inputs: inputs, layer: layer, to: path)
        printError("wrote \(layer)'s activations for \(n) samples to \(path)")
    }

    // MARK: - Reference and IDX files

    private func predictSamples(_ input: String) throws {
        let file = try modelFile.load()
        let batch = try InputBatch.load(input, labelsPath: labels, model: file.model, modelPath: model, limit: limit)
        try MemoryBudget.checkInference(file.model, batch: batch.inputs[0].batchCount, file: model)
        let all = try file.model.predict(inputs: batch.inputs)
        if let dump { try writeDump(file.model, batch.inputs, dump) }
        let named = NamedOutputs(names: file.model.outputNames, outputs: all)
        if let csv { try writeAtomically(named.csv(labels: batch.labels), to: csv) }
        if all.count > 1 { return try printNamedOutputs(named, batch: batch, input: input) }
        let outputs = all[0]
        let classes = PredictedClasses(outputs)
        let per = outputs.sampleCount
        let ranked = classes.ranked(top: top)
        if let output { try writeAtomically(classes.texts.joined(separator: "\n") + "\n", to: output) }
        let samples = (0..<classes.count).map { "sample \($0) of \(input)" }
        if json {
            var predictions: [[String: Any]] = []
            for s in 0..<classes.count {
                var entry: [String: Any] = [
                    "index": s, "class": classes.json(s),
                    "probabilities": outputs.sample(s).map(PredictedClasses.json),
                    "top": classes[s] == nil ? [] : ranked[s].map { ["class": $0.0, "probability": PredictedClasses.json($0.1)] },
                ]
                if let l = batch.labels { entry["label"] = l[s] }
                predictions.append(entry)
            }
            var object: [String: Any] = ["model": model, "input": input, "predictions": predictions]
            if let l = batch.labels { object["accuracy"] = Double(zip(classes.values, l).filter { $0 == $1 }.count) / Double(max(1, l.count)) }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            try classes.failIfNaN(model: model, samples: samples)
            return
        }
        var headers = ["#", "class"]
        if batch.labels != nil { headers.append("label") }
        headers.append("top \(min(top, per)) (class: probability)")
        var table = TextTable(headers: headers, rightAligned: [0, 1, 2])
        for s in 0..<classes.count {
            var row = [String(s), classes.text(s)]
            if let l = batch.labels { row.append(String(l[s]) + (l[s] == classes[s] ? "" : " ✗")) }
            row.append(classes[s] == nil ? PredictedClasses.noPrediction
                           : ranked[s].map { "\($0.0): \(String(format: "%.4f", Double($0.1)))" }.joined(separator: "  "))
            table.rows.append(row)
        }
        print(table.render())
        var summary = "\(classes.count) samples from \(batch.description)"
        if let l = batch.labels {
            let correct = zip(classes.values, l).filter { $0 == $1 }.count
            summary += "; accuracy \(correct)/\(l.count) = \(percent(correct, l.count))"
        }
        print(summary)
        try classes.failIfNaN(model: model, samples: samples)
    }

    /// `predict --input` for a model with several outputs: one column per output.
    private func printNamedOutputs(_ named: NamedOutputs, batch: InputBatch, input: String) throws {
        let n = named.sampleCount
        if let output { try writeAtomically((0..<n).map(named.line).joined(separator: "\n") + "\n", to: output) }
        if json {
            let predictions: [[String: Any]] = (0..<n).map { s in
                var entry: [String: Any] = ["index": s, "outputs": named.json(s)]
                if let l = batch.labels { entry["label"] = l[s] }
                return entry
            }
            let object: [String: Any] = ["model": model, "input": input, "outputs": named.names, "predictions": predictions]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            var headers = ["#"] + (batch.labels == nil ? [] : ["label"])
            headers += named.names
            var table = TextTable(headers: headers, rightAligned: [0])
            for s in 0..<n {
                table.rows.append([String(s)] + (batch.labels.map { [String($0[s])] } ?? [])
                                  + named.names.indices.map { named.text(s, output: $0) })
            }
            print(table.render())
            print("\(n) samples from \(batch.description), \(named.names.count) outputs")
        }
        let bad = named.unpredicted
        guard bad.isEmpty else {
            let shown = bad.prefix(5).map { "sample \($0) of \(input)" }.joined(separator: ", ") + (bad.count > 5 ? ", …" : "")
            printError("error: \(model) produced NaN outputs for \(bad.count) of \(n) samples (\(shown))")
            throw ExitCode(1)
        }
    }
}
