import ArgumentParser
import Foundation
import ModelPortReports
import ModelPortFormats
import ModelPortKeras
import ModelPortRuntime

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what a model file holds: format, Keras version, layers, shapes, parameters.",
        discussion: """
            Prints a table like Keras's model.summary(): each layer with its type, the shape \
            of its output (None is the batch axis) and its number of weights.

            --json prints: file, format, keras_version, backend, producer, model_name, \
            model_class, input_shape, output_shape (the first input's and output's), inputs and \
            outputs (name, shape: every one), total_parameters and layers (name, type, \
            output_shape, parameters, inbound).

            A model with several inputs or outputs lists each with its name and shape: the \
            names its reference file's inputs/<name> and outputs/<name> datasets must have \
            (see 'modelport validate --help').

            Example:
              modelport inspect fixtures/mnist_digit_model.h5
              modelport inspect model.h5 --json | jq .total_parameters
              modelport inspect model.onnx
            """)

    @OptionGroup var modelFile: ModelFileArgument

    @OptionGroup var format: OutputFormatOptions
    var json: Bool { format.json }

    @OptionGroup var trust: TrustOptions

    func run() throws {
        trust.apply()
        try runReportingErrors {
            let file = try modelFile.load()
            if json { try printJSON(file) } else { printTable(file) }
        }
    }

    private func printTable(_ file: AnyModelFile) {
        let m = file.model
        print("File:      \(file.displayPath)")
        print("Format:    \(file.format.rawValue)" + (file.kerasGeneration.map { ", written by \($0)" } ?? ""))
        if let v = file.kerasVersion { print("Keras:     \(v)" + (file.backend.map { " (backend: \($0))" } ?? "")) }
        if let producer = file.producer { print("Producer:  \(producer)") }
        if let training = file.trainingConfig {
            let loss = training["loss"]?.string ?? training["loss"]?.compactText ?? "?"
            // .h5 training_config: optimizer_config; .keras compile_config: optimizer.
            let optimizer = (training["optimizer_config"] ?? training["optimizer"])?["class_name"]?.string ?? "?"
            print("Compiled:  loss \(loss), optimizer \(optimizer)")
        }
        print("")
        if m.inputShapes.count == 1 && m.outputShapes.count == 1 {
            print("Model: \"\(m.name)\"  input \(kerasShape(m.inputShape))")
        } else {
            print("Model: \"\(m.name)\"")
            var ports = TextTable(headers: ["", "Name", "Shape"], rightAligned: [])
            for (name, shape) in zip(m.inputNames, m.inputShapes) { ports.rows.append(["input", name, kerasShape(shape)]) }
            for (name, shape) in zip(m.outputNames, m.outputShapes) { ports.rows.append(["output", name, kerasShape(shape)]) }
            print(ports.render())
        }
        // Functional models also show the graph: which layers feed each one.
        let graph = m is Functional
        var table = TextTable(headers: ["Layer (type)", "Output Shape", "Param #"] + (graph ? ["Connected to"] : []),
                              rightAligned: [2])
        for row in m.summary {
            table.rows.append(["\(row.name) (\(row.typeName))", kerasShape(row.outputShape), grouped(row.parameterCount)]
                              + (graph ? [row.inbound.isEmpty ? "-" : row.inbound.joined(separator: ", ")] : []))
        }
        print(table.render())
        let bytes = m.parameterCount * 4
        print("Total params: \(grouped(m.parameterCount)) (\(String(format: "%.2f", Double(bytes) / 1024)) KB)")
        // As Keras's summary: what training updates, and the rest (BatchNorm statistics, frozen layers).
        print("Trainable params: \(grouped(m.trainableParameterCount))")
        print("Non-trainable params: \(grouped(m.parameterCount - m.trainableParameterCount))")
    }

    private func printJSON(_ file: AnyModelFile) throws {
        let m = file.model
        let object: [String: Any] = [
            "file": file.displayPath,
            "format": file.format.rawValue,
            "keras_version": file.kerasVersion as Any,
            "backend": file.backend as Any,
            "producer": file.producer as Any,
            "model_name": m.name,
            "model_class": m is Functional ? "Functional" : "Sequential",
            "input_shape": m.inputShape,
            "output_shape": m.outputShape,
            "inputs": zip(m.inputNames, m.inputShapes).map { ["name": $0, "shape": $1] as [String: Any] },
            "outputs": zip(m.outputNames, m.outputShapes).map { ["name": $0, "shape": $1] as [String: Any] },
            "total_parameters": m.parameterCount,
            "trainable_parameters": m.trainableParameterCount,
            "layers": m.summary.map {
                ["name": $0.name, "type": $0.typeName, "output_shape": $0.outputShape, "parameters": $0.parameterCount,
                 "inbound": $0.inbound] as [String: Any]
            },
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
