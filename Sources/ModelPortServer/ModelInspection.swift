import Foundation
import ModelPortFormats
import ModelPortKeras
import ModelPortRuntime

/// What `modelport inspect --json` shows about a model file, as the
/// workbench and `GET /api/models/{id}` serve it.
enum ModelInspection {
    /// The short entry of `GET /api/models`.
    static func listing(_ served: ServedModel) -> [String: Any] {
        let m = served.model
        return [
            "id": served.id,
            "file": URL(fileURLWithPath: served.file.displayPath).lastPathComponent,
            "format": served.file.format.rawValue,
            "input_shape": m.inputShapes.count == 1 ? m.inputShape : m.inputShapes as Any,
            "output_shape": m.outputShapes.count == 1 ? m.outputShape : m.outputShapes as Any,
            "parameters": m.parameterCount,
            "has_reference": served.referencePath != nil,
            "digits": served.takesDigits,
        ]
    }

    /// Everything `inspect` prints, for one model file.
    static func details(_ file: AnyModelFile, id: String?, referencePath: String?) -> [String: Any] {
        let m = file.model
        var object: [String: Any] = [
            "file": URL(fileURLWithPath: file.displayPath).lastPathComponent,
            "format": file.format.rawValue,
            "model_name": m.name,
            "model_class": m is Functional ? "Functional" : "Sequential",
            "input_shape": m.inputShape,
            "output_shape": m.outputShape,
            "total_parameters": m.parameterCount,
            "parameter_bytes": m.parameterCount * 4,
            "layers": m.summary.map {
                ["name": $0.name, "type": $0.typeName, "output_shape": $0.outputShape, "parameters": $0.parameterCount,
                 "inbound": $0.inbound] as [String: Any]
            },
            "has_reference": referencePath != nil,
        ]
        if let id { object["id"] = id }
        if let v = file.kerasVersion { object["keras_version"] = v }
        if let g = file.kerasGeneration { object["keras_generation"] = g }
        if let b = file.backend { object["backend"] = b }
        if let p = file.producer { object["producer"] = p }
        if let referencePath { object["reference"] = URL(fileURLWithPath: referencePath).lastPathComponent }
        if let training = file.trainingConfig {
            object["compiled"] = [
                "loss": training["loss"]?.string ?? training["loss"]?.compactText ?? "?",
                // A dict with a class_name, or the name Keras was compiled with ("adam").
                "optimizer": (training["optimizer_config"] ?? training["optimizer"]).flatMap { $0["class_name"]?.string ?? $0.string } ?? "not saved",
            ]
        }
        return object
    }
}
