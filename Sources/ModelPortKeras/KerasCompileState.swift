import ModelPortHDF5
import ModelPortRuntime

/// What Keras keeps of a compiled model besides its layers and weights — the
/// compile settings (loss, metrics, the optimizer's class and
/// hyperparameters) and the optimizer's variables — carried from the file a
/// model was read from into a file of another layout, so that the written
/// model continues training in Keras where the source stopped.
///
/// | source -> target | settings | optimizer variables |
/// |---|---|---|
/// | same generation, both legacy `.h5` | kept verbatim | copied as stored |
/// | Keras 3 `.h5` <-> `.keras` | kept; `training_config` <-> `compile_config` (the optimizer moves between `optimizer_config` and `optimizer`) | read into ModelPort's optimizer, written in the target's order and names |
/// | tf-keras <-> Keras 3 | rebuilt in the target's spelling: the optimizer from ModelPort's, loss and metrics by Keras name | as above |
///
/// Settings are held in the legacy `training_config` form in the target
/// generation's spelling; the archive writer stores them as `compile_config`.
public struct KerasCompileState: Sendable {
    /// Nil for a model that was never compiled (or whose settings cannot be carried: see `notes`).
    public var trainingConfig: JSONValue?
    /// Nil when the source saved none (or they cannot be carried: see `notes`).
    public var optimizerWeights: [KerasOptimizerWeight]?
    /// The optimizer's Keras class and saved step, for the summary ("Adam at step 12").
    public var optimizerSummary: String?
    /// What was left out and why, to tell the user.
    public var notes: [String] = []

    /// The compile state of `file`, for a file of `generation` in `container`.
    /// Never throws: what cannot be carried is left out and said in `notes`
    /// (the model itself still converts).
    public static func carried(from file: KerasModelFile, to generation: KerasGeneration,
                               container: KerasWriter.Container) -> KerasCompileState {
        var state = KerasCompileState()
        guard container != .weights, let compiled = file.trainingConfig, compiled != .object([:]), !compiled.isNull else { return state }
        let target: KerasGeneration = container == .archive ? .keras3 : generation
        let source = KerasGeneration(kerasVersion: file.kerasVersion) ?? (file.format == .kerasArchive ? .keras3 : .keras2)
        let sourceIsLegacy = file.format == .legacyH5

        // The optimizer as ModelPort implements it (nil: not implemented, said in notes).
        var optimizer: Optimizer?
        var optimizerProblem: String?
        do { optimizer = try KerasOptimizerState.optimizer(fromTrainingConfig: compiled, file: file.path) } catch {
            optimizerProblem = (error as? KerasImportError)?.message ?? "\(error)"
        }

        // Settings.
        if source == target {
            state.trainingConfig = legacyForm(compiled, optimizer: optimizer, keras3: target == .keras3)
        } else {
            switch rebuilt(compiled, optimizer: optimizer, keras3: target == .keras3) {
            case .success(let config): state.trainingConfig = config
            case .failure(let reason):
                state.notes.append("the compile settings were left out (\(optimizerProblem ?? reason.text)); the file loads uncompiled in Keras")
                return state
            }
        }
        if state.trainingConfig?["optimizer_config"] == nil {
            state.notes.append("the source was compiled without an optimizer; Keras will compile it with its default")
        }

        // Optimizer variables.
        if source == target, sourceIsLegacy, container == .legacyH5 {
            state.optimizerWeights = try? KerasOptimizerWeights.read(legacyH5: file.path)
        } else if let optimizerProblem {
            if savesOptimizerVariables(file) {
                state.notes.append("the optimizer state was left out (\(optimizerProblem)); Keras will restart the optimizer")
            }
        } else {
            do {
                switch try KerasOptimizerResumption.read(file, model: file.model) {
                case .continued(let restored):
                    var weights = KerasOptimizerState.kerasWeights(of: restored, model: file.model, keras3: target == .keras3)
                    // Keras 3 groups them under the optimizer's own name ("adam_1", a user's name).
                    if target == .keras3, let group = state.trainingConfig?["optimizer_config"]?["config"]?["name"]?.string,
                       !group.isEmpty, !group.contains("/") {
                        weights = weights.map { w in
                            var w = w
                            if let slash = w.name.firstIndex(of: "/") { w.name = group + w.name[slash...] }
                            return w
                        }
                    }
                    state.optimizerWeights = weights
                default: break
                }
            } catch {
                let reason = (error as? KerasImportError)?.message ?? "\(error)"
                state.notes.append("the optimizer state was left out (\(reason)); Keras will restart the optimizer")
            }
        }
        if let className = state.trainingConfig?["optimizer_config"]?["class_name"]?.string {
            let name = className.replacingOccurrences(of: "Custom>", with: "")
            state.optimizerSummary = state.optimizerWeights.flatMap(iterations).map { "\(name) at step \($0)" } ?? "\(name), no saved state"
        }
        return state
    }

    /// The step counter among saved optimizer variables (the first, by Keras's order).
    static func iterations(_ weights: [KerasOptimizerWeight]) -> Int? {
        guard let first = weights.first, case .int64(let v) = first.values, let step = v.first else { return nil }
        return Int(step)
    }

    static func savesOptimizerVariables(_ file: KerasModelFile) -> Bool {
        guard file.format == .legacyH5, let h5 = try? HDF5File(openingAt: file.path) else { return file.format == .kerasArchive }
        return h5.root.isGroup("optimizer_weights")
    }

    /// A `compile_config` (or `training_config`) as a legacy `training_config`:
    /// the optimizer moved from `optimizer` to `optimizer_config`
    /// (`{"class_name", "config"}`); a name such as `"adam"` becomes the full
    /// config of ModelPort's reading of it.
    static func legacyForm(_ compiled: JSONValue, optimizer: Optimizer?, keras3: Bool) -> JSONValue {
        guard var c = compiled.object, c["optimizer_config"] == nil else { return compiled }
        let given = c.removeValue(forKey: "optimizer")
        if let className = given?["class_name"]?.string {
            c["optimizer_config"] = .object(["class_name": .string(className), "config": given?["config"] ?? .object([:])])
        } else if given?.string != nil, let optimizer {
            c["optimizer_config"] = KerasOptimizerState.optimizerConfig(optimizer, keras3: keras3)
        }
        return .object(c)
    }

    /// The settings in the other generation's spelling: the optimizer from
    /// ModelPort's, loss and metrics by their Keras names.
    static func rebuilt(_ compiled: JSONValue, optimizer: Optimizer?, keras3: Bool) -> Result<JSONValue, Reason> {
        guard let optimizer else { return .failure(Reason("its optimizer is not implemented by ModelPort")) }
        var out: [String: JSONValue] = ["optimizer_config": KerasOptimizerState.optimizerConfig(optimizer, keras3: keras3)]
        do {
            out["loss"] = try translated(compiled["loss"] ?? .null, keras3: keras3, what: "loss")
            out["metrics"] = try metricNames(compiled["metrics"] ?? .null)
            out["weighted_metrics"] = try metricNames(compiled["weighted_metrics"] ?? .null)
        } catch let reason as Reason {
            return .failure(reason)
        } catch {
            return .failure(Reason("\(error)"))
        }
        let weights = compiled["loss_weights"] ?? .null
        guard weights.isNull || weights.number != nil || (weights.array?.allSatisfy { $0.number != nil } ?? false) else {
            return .failure(Reason("loss_weights \(weights.compactText) cannot be translated"))
        }
        out["loss_weights"] = weights
        if keras3 {
            out["run_eagerly"] = compiled["run_eagerly"] ?? .bool(false)
            out["steps_per_execution"] = compiled["steps_per_execution"] ?? .number(1)
            out["jit_compile"] = .bool(false)
        }
        return .success(.object(out))
    }

    struct Reason: Error { let text: String; init(_ text: String) { self.text = text } }

    /// A loss: a name as it is; a serialised Keras loss by class and its
    /// arguments that both generations share (`from_logits`, `label_smoothing`, `axis`).
    static func translated(_ value: JSONValue, keras3: Bool, what: String) throws -> JSONValue {
        if value.isNull || value.string != nil { return value }
        if let list = value.array { return .array(try list.map { try translated($0, keras3: keras3, what: what) }) }
        if let dict = value.object, dict["class_name"] == nil {
            return .object(try dict.mapValues { try translated($0, keras3: keras3, what: what) })
        }
        guard let className = value["class_name"]?.string?.replacingOccurrences(of: "Custom>", with: ""),
              value["module"]?.string.map({ $0.hasPrefix("keras") }) ?? true else {
            throw Reason("\(what) \(value.compactText) is not a Keras built-in")
        }
        var config: [String: JSONValue] = [:]
        for key in ["from_logits", "label_smoothing", "axis", "name"] { if let v = value["config"]?[key] { config[key] = v } }
        var object: [String: JSONValue] = ["class_name": .string(className), "config": .object(config)]
        if keras3 {
            object["module"] = .string("keras.losses")
            object["registered_name"] = .null
        }
        return .object(object)
    }

    /// Metrics as the names both generations resolve (`"accuracy"`, `"mae"`, ...):
    /// a serialised metric by its `name`, nested per-output lists kept.
    static func metricNames(_ value: JSONValue) throws -> JSONValue {
        if value.isNull || value.string != nil { return value }
        if let list = value.array {
            let names = try list.map(metricNames)
            // tf-keras nests a single output's metrics: [[...]].
            if names.count == 1, let inner = names[0].array { return .array(inner) }
            return .array(names)
        }
        if let dict = value.object, dict["class_name"] == nil { return .object(try dict.mapValues(metricNames)) }
        guard let name = value["config"]?["name"]?.string, value["module"]?.string.map({ $0.hasPrefix("keras") }) ?? true else {
            throw Reason("metric \(value.compactText) is not a Keras built-in")
        }
        return .string(name)
    }
}
