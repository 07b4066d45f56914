import ModelPortHDF5
import ModelPortRuntime

/// Keras optimizers and their saved state, to and from ModelPort's
/// `Optimizer`: the `optimizer_config` inside `training_config`, and the
/// variables under `/optimizer_weights` of a legacy `.h5` file.
///
/// Keras stores optimizer variables in the optimizer's own order and lists
/// their names in `/optimizer_weights`'s `weight_names` attribute:
///
/// | generation | step counter | per trainable variable (e.g. a Sequential `conv2d` kernel) |
/// |---|---|---|
/// | Keras 3 | `adam/iteration` (int64), `adam/learning_rate` | `adam/<model>_conv2d_kernel_momentum`, `..._velocity` (functional models: no `<model>_`) |
/// | tf-keras | `iteration:0` | `Adam/m/conv2d/kernel:0`, `Adam/v/conv2d/kernel:0` |
///
/// Slot names: Keras 3 Adam `momentum`, `velocity`, `velocity_hat`; SGD
/// `momentum`; RMSprop `velocity`, `momentum`, `average_gradient`. tf-keras
/// Adam `m`, `v`, `vhat`; SGD `m`; RMSprop as Keras 3.
public enum KerasOptimizerState {
    /// The optimizer a Keras `training_config` describes (`optimizer_config`:
    /// class, learning rate or schedule, clipping, weight decay, and the
    /// rule's own hyperparameters), with fresh state.
    /// - Throws: `KerasImportError` for an optimizer or schedule ModelPort does not implement.
    ///
    /// A `.keras` archive's `compile_config` works too: its `optimizer` is a
    /// serialised optimizer (`{"class_name": "Adam", "config": ...}`) or a
    /// name (`"adam"`, Keras's defaults).
    public static func optimizer(fromTrainingConfig training: JSONValue, file: String) throws -> Optimizer {
        var optimizerConfig = training["optimizer_config"]
        if optimizerConfig == nil, let compiled = training["optimizer"], !compiled.isNull {
            if let name = compiled.string {
                let className = OptimizerKind(name: name)?.kerasClassName ?? name
                optimizerConfig = .object(["class_name": .string(className), "config": .object([:])])
            } else {
                optimizerConfig = compiled
            }
        }
        guard let optimizerConfig, let rawClass = optimizerConfig["class_name"]?.string else {
            throw KerasImportError(file: file, message: "training_config has no optimizer_config (compile_config has no optimizer)")
        }
        let className = rawClass.replacingOccurrences(of: "Custom>", with: "")
        let c = optimizerConfig["config"] ?? .object([:])
        func number(_ key: String) -> Double? { c[key]?.number }
        func flag(_ key: String) -> Bool { c[key]?.bool ?? false }
        let lr = try schedule(c["learning_rate"], default: OptimizerKind(name: className)?.defaultLearningRate ?? 0.001, file: file)
        let optimizer: Optimizer
        switch className {
        case "Adam":
            optimizer = .adam(learningRate: lr, beta1: number("beta_1") ?? 0.9, beta2: number("beta_2") ?? 0.999,
                              epsilon: number("epsilon") ?? 1e-7, amsgrad: flag("amsgrad"))
        case "AdamW":
            optimizer = .adamW(learningRate: lr, weightDecay: Float(number("weight_decay") ?? 0.004),
                               beta1: number("beta_1") ?? 0.9, beta2: number("beta_2") ?? 0.999,
                               epsilon: number("epsilon") ?? 1e-7, amsgrad: flag("amsgrad"))
        case "SGD":
            optimizer = .sgd(learningRate: lr, momentum: number("momentum") ?? 0, nesterov: flag("nesterov"))
        case "RMSprop":
            optimizer = .rmsprop(learningRate: lr, rho: number("rho") ?? 0.9, momentum: number("momentum") ?? 0,
                                 epsilon: number("epsilon") ?? 1e-7, centered: flag("centered"))
        default:
            throw KerasImportError(file: file, className: rawClass,
                                   message: "optimizer '\(rawClass)' is not implemented by ModelPort (Adam, AdamW, SGD, RMSprop are)")
        }
        if className != "AdamW", let wd = number("weight_decay"), wd > 0 { optimizer.weightDecay = Float(wd) }
        optimizer.clipnorm = number("clipnorm").map(Float.init)
        optimizer.globalClipnorm = number("global_clipnorm").map(Float.init)
        optimizer.clipvalue = number("clipvalue").map(Float.init)
        if flag("use_ema") {
            throw KerasImportError(file: file, className: rawClass, argument: "use_ema", message: "exponential moving averages of weights are not implemented")
        }
        return optimizer
    }

    /// A learning rate: a number, or a serialised ExponentialDecay/CosineDecay schedule.
    static func schedule(_ value: JSONValue?, default fallback: Float, file: String) throws -> LearningRateSchedule {
        guard let value, !value.isNull else { return .constant(fallback) }
        if let n = value.number { return .constant(Float(n)) }
        let className = value["class_name"]?.string ?? "?"
        let c = value["config"] ?? .object([:])
        func n(_ key: String) -> Double? { c[key]?.number }
        switch className {
        case "ExponentialDecay":
            guard let initial = n("initial_learning_rate"), let steps = n("decay_steps"), let rate = n("decay_rate") else { break }
            return .exponentialDecay(initial: Float(initial), decaySteps: Int(steps), decayRate: Float(rate), staircase: c["staircase"]?.bool ?? false)
        case "CosineDecay":
            guard let initial = n("initial_learning_rate"), let steps = n("decay_steps") else { break }
            return .cosineDecay(initial: Float(initial), decaySteps: Int(steps), alpha: Float(n("alpha") ?? 0),
                                warmupTarget: n("warmup_target").map(Float.init), warmupSteps: Int(n("warmup_steps") ?? 0))
        default: break
        }
        throw KerasImportError(file: file, argument: "learning_rate", message: "learning-rate schedule \(value.compactText) is not supported (constant, ExponentialDecay and CosineDecay are)")
    }

    /// Keras's `training_config` for a model compiled with `loss`,
    /// `metrics=["accuracy"]` and `optimizer`, in the spelling of Keras 3
    /// (`keras3: true`) or tf-keras.
    public static func trainingConfig(optimizer: Optimizer, loss: Loss, keras3: Bool = true) -> JSONValue {
        .object([
            "loss": .string(loss.kerasName), "loss_weights": .null, "metrics": .array([.string("accuracy")]),
            "weighted_metrics": .null, "run_eagerly": .bool(false), "steps_per_execution": .number(1), "jit_compile": .bool(false),
            "optimizer_config": optimizerConfig(optimizer, keras3: keras3),
        ])
    }

    /// The `optimizer_config` of a `training_config` (`{"class_name", "config"}`)
    /// describing `optimizer`'s class, learning rate or schedule, clipping and
    /// hyperparameters, with the keys each generation's optimizer accepts.
    public static func optimizerConfig(_ optimizer: Optimizer, keras3: Bool) -> JSONValue {
        var c: [String: JSONValue] = [
            "name": .string(keras3 ? keras3Group(optimizer) : optimizer.kerasClassName),
            "weight_decay": optimizer.weightDecay.map { .number(Double($0)) } ?? .null,
            "clipnorm": optimizer.clipnorm.map { .number(Double($0)) } ?? .null,
            "global_clipnorm": optimizer.globalClipnorm.map { .number(Double($0)) } ?? .null,
            "clipvalue": optimizer.clipvalue.map { .number(Double($0)) } ?? .null,
            "use_ema": .bool(false), "ema_momentum": .number(0.99), "ema_overwrite_frequency": .null,
        ]
        if keras3 {
            c["loss_scale_factor"] = .null
            c["gradient_accumulation_steps"] = .null
        } else {
            c["jit_compile"] = .bool(false)
            c["is_legacy_optimizer"] = .bool(false)
        }
        switch optimizer.learningRate {
        case .constant(let lr): c["learning_rate"] = .number(Double(lr))
        case let .exponentialDecay(initial, steps, rate, staircase):
            c["learning_rate"] = scheduleConfig("ExponentialDecay", ["initial_learning_rate": .number(Double(initial)),
                "decay_steps": .number(Double(steps)), "decay_rate": .number(Double(rate)), "staircase": .bool(staircase), "name": .string("ExponentialDecay")], keras3)
        case let .cosineDecay(initial, steps, alpha, target, warmup):
            c["learning_rate"] = scheduleConfig("CosineDecay", ["initial_learning_rate": .number(Double(initial)),
                "decay_steps": .number(Double(steps)), "alpha": .number(Double(alpha)), "name": .string("CosineDecay"),
                "warmup_target": target.map { .number(Double($0)) } ?? .null, "warmup_steps": .number(Double(warmup))], keras3)
        }
        for (key, value) in optimizer.rule.kerasConfig {
            switch value {
            case .number(let d): c[key] = .number(d)
            case .bool(let b): c[key] = .bool(b)
            case .string(let s): c[key] = .string(s)
            case .null: c[key] = .null
            }
        }
        let className = keras3 ? optimizer.kerasClassName : "Custom>" + optimizer.kerasClassName
        return .object(["class_name": .string(className), "config": .object(c)])
    }

    private static func scheduleConfig(_ className: String, _ config: [String: JSONValue], _ keras3: Bool) -> JSONValue {
        keras3 ? .object(["module": .string("keras.optimizers.schedules"), "class_name": .string(className),
                          "config": .object(config), "registered_name": .null])
               : .object(["class_name": .string(className), "config": .object(config)])
    }

    /// The group Keras 3 stores an optimizer's variables under: its name,
    /// by default the class name in snake case (`adam`, `rm_sprop`, `adam_w`;
    /// a second unnamed optimizer in one Python session gets `adam_1`).
    static func keras3Group(_ optimizer: Optimizer) -> String { snakeCase(optimizer.kerasClassName) }

    /// The name Keras gives a slot of one parameter, per generation, for
    /// `/optimizer_weights` (see the table above).
    static func slotName(_ slot: String, layer: String, variable: String, modelName: String?, optimizer: Optimizer, keras3: Bool) -> String {
        if keras3 {
            return "\(keras3Group(optimizer))/" + ([modelName, layer, variable, slot].compactMap { $0 }.joined(separator: "_"))
        }
        let k2: String
        switch (optimizer.rule.kerasClassName, slot) {
        case ("Adam", "momentum"), ("SGD", "momentum"): k2 = "m"
        case ("Adam", "velocity"): k2 = "v"
        case ("Adam", "velocity_hat"): k2 = "vhat"
        default: k2 = slot
        }
        return "\(optimizer.kerasClassName)/\(k2)/\(layer)/\(variable):0"
    }

    /// Restores an optimizer's step count, learning rate (Keras 3) and every
    /// slot from a legacy `.h5` file's `/optimizer_weights`, so training
    /// continues where Keras stopped instead of restarting the optimizer.
    /// - Parameters:
    ///   - model: the model loaded from the same file (its trainable parameters, in order).
    /// - Throws: `KerasImportError` naming the file and the variable that is
    ///   missing or has the wrong shape.
    public static func restore(_ optimizer: Optimizer, model: any Model, fromH5 path: String) throws {
        if try restoreIfSaved(optimizer, model: model, fromH5: path) == .absent {
            throw KerasImportError(file: path, message: "no /optimizer_weights: the model was saved without its optimizer")
        }
    }

    /// A Keras 3 variable name under the default group (`adam_1/x` -> `adam/x`), for files
    /// whose optimizer was named by the user or numbered by Keras.
    static func withDefaultGroup(_ name: String, _ optimizer: Optimizer) -> String {
        guard let slash = name.firstIndex(of: "/") else { return name }
        return keras3Group(optimizer) + name[slash...]
    }

    /// `restore(_:model:fromH5:)`, or `.absent` (the optimizer untouched)
    /// when the file has no `/optimizer_weights`.
    /// - Throws: `KerasImportError` for state that is there but does not fit.
    public static func restoreIfSaved(_ optimizer: Optimizer, model: any Model, fromH5 path: String) throws -> SavedOptimizerState {
        let file = try HDF5File(openingAt: path)
        guard file.root.isGroup("optimizer_weights") else { return .absent }
        let group = try file.root.group("optimizer_weights")
        guard let names = try KerasH5Reader.readChunkedStrings(group, "weight_names") else {
            throw KerasImportError(file: path, message: "/optimizer_weights has no weight_names attribute")
        }
        let keras3 = !names.contains { $0.hasSuffix(":0") }
        var seen = Set<ObjectIdentifier>()
        let owned: [(layer: String, parameter: Parameter)] = model.layers.flatMap { layer in
            layer.parameters.filter { $0.isUpdated && seen.insert(ObjectIdentifier($0)).inserted }.map { (layer.name, $0) }
        }
        optimizer.build(owned.map(\.parameter))
        // Every name ModelPort expects, for either model-name spelling.
        var expected: [String: (Int, Int)] = [:]
        for (p, entry) in owned.enumerated() {
            for (s, slot) in optimizer.rule.slotNames.enumerated() {
                for prefix in [model.name, nil] as [String?] {
                    expected[slotName(slot, layer: entry.layer, variable: entry.parameter.name, modelName: prefix,
                                      optimizer: optimizer, keras3: keras3)] = (p, s)
                }
            }
        }
        var restored = Set<String>()
        for name in names {
            let dataset = try group.dataset(name)
            let base = name.split(separator: "/").last.map(String.init) ?? name
            if base == "iteration" || base == "iteration:0" || base == "iter:0" {
                optimizer.iterations = Int(try dataset.read(as: Int64.self).first ?? 0)
            } else if base == "learning_rate" || base == "learning_rate:0" {
                if case .constant = optimizer.learningRate, let lr = try dataset.read(as: Float.self).first {
                    optimizer.learningRate = .constant(lr)
                }
            } else if let (p, s) = expected[name] ?? expected[keras3 ? withDefaultGroup(name, optimizer) : name] {
                let shape = try dataset.shape()
                guard shape == owned[p].parameter.shape else {
                    throw KerasImportError(file: path, layer: owned[p].layer,
                                           message: "optimizer variable '\(name)' has shape \(shape), the parameter has \(owned[p].parameter.shape)")
                }
                optimizer.setSlot(s, of: p, to: Tensor(shape: shape, scalars: try dataset.read(as: Float.self)))
                restored.insert(name)
            } else {
                throw KerasImportError(file: path, message: "optimizer variable '\(name)' does not belong to any trainable parameter of \(optimizer.kerasClassName) for this model")
            }
        }
        let needed = owned.count * optimizer.rule.slotNames.count
        guard restored.count == needed else {
            throw KerasImportError(file: path, message: "/optimizer_weights restores \(restored.count) of the \(needed) \(optimizer.kerasClassName) slots this model needs")
        }
        return .restored(iterations: optimizer.iterations)
    }

    /// Restores an optimizer's step count, learning rate and every slot from
    /// a Keras 3 `.keras` archive: `model.weights.h5`'s `optimizer/vars/<i>`,
    /// which Keras saves by position only, in its variable order —
    /// `iteration`, `learning_rate`, then the slots Keras builds together,
    /// interleaved per trainable variable (Adam: momentum and velocity of
    /// each variable, then every velocity_hat; see `slotGroups`).
    /// - Parameters:
    ///   - model: the model loaded from the same archive.
    /// - Throws: `KerasImportError` naming the file when there is no
    ///   optimizer state, the count does not fit this optimizer and model,
    ///   or a variable's shape differs from its parameter's.
    public static func restore(_ optimizer: Optimizer, model: any Model, fromKerasArchive path: String) throws {
        if try restoreIfSaved(optimizer, model: model, fromKerasArchive: path) == .absent {
            throw KerasImportError(file: path, message: "no optimizer/vars in model.weights.h5: the model was saved without its optimizer")
        }
    }

    /// `restore(_:model:fromKerasArchive:)`, or `.absent` (the optimizer
    /// untouched) when `model.weights.h5` has no `optimizer/vars`.
    /// - Throws: `KerasImportError` for state that is there but does not fit.
    public static func restoreIfSaved(_ optimizer: Optimizer, model: any Model, fromKerasArchive path: String) throws -> SavedOptimizerState {
        try KerasArchiveReader.withWeightsStore(path) { store in
            guard store.root.isGroup("optimizer/vars") else { return .absent }
            let group = try store.root.group("optimizer/vars")
            var seen = Set<ObjectIdentifier>()
            let owned: [(layer: String, parameter: Parameter)] = model.layers.flatMap { layer in
                layer.parameters.filter { $0.isUpdated && seen.insert(ObjectIdentifier($0)).inserted }.map { (layer.name, $0) }
            }
            optimizer.build(owned.map(\.parameter))
            var order: [(p: Int, s: Int)] = []
            for slotGroup in slotGroups(optimizer) {
                for p in owned.indices { for s in slotGroup { order.append((p, s)) } }
            }
            let count = try group.childNames().count
            guard count == 2 + order.count else {
                throw KerasImportError(file: path, message: "optimizer/vars holds \(count) variables; \(optimizer.kerasClassName) for this model has \(2 + order.count) (iteration, learning_rate and \(order.count) slots)")
            }
            optimizer.iterations = Int(try group.dataset("0").read(as: Int64.self).first ?? 0)
            if case .constant = optimizer.learningRate, let lr = try group.dataset("1").read(as: Float.self).first {
                optimizer.learningRate = .constant(lr)
            }
            for (k, (p, s)) in order.enumerated() {
                let dataset = try group.dataset(String(k + 2))
                let shape = try dataset.shape()
                guard shape == owned[p].parameter.shape else {
                    throw KerasImportError(file: path, layer: owned[p].layer,
                                           message: "optimizer/vars/\(k + 2) (\(optimizer.rule.slotNames[s]) of \(owned[p].parameter.name)) has shape \(shape), the parameter has \(owned[p].parameter.shape)")
                }
                optimizer.setSlot(s, of: p, to: Tensor(shape: shape, scalars: try dataset.read(as: Float.self)))
            }
            return .restored(iterations: optimizer.iterations)
        }
    }
}
