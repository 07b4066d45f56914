import ModelPortRuntime

extension KerasOptimizerState {
    /// Groups of slots Keras builds together, interleaved per variable
    /// within a group (Adam: momentum and velocity per variable, then every
    /// velocity_hat; RMSprop: every velocity, then every momentum, then every
    /// average_gradient), in `rule.slotNames` indices.
    static func slotGroups(_ optimizer: Optimizer) -> [[Int]] {
        let names = optimizer.rule.slotNames
        switch optimizer.rule.kerasClassName {
        case "Adam": return [[0, 1]] + (names.count > 2 ? [[2]] : [])
        default: return names.indices.map { [$0] }
        }
    }

    /// The optimizer's state as Keras stores it, in Keras's variable order,
    /// for `KerasSaveOptions.optimizerWeights`: the step counter (int64),
    /// Keras 3's `learning_rate`, then every slot of every trainable
    /// parameter (names as in the table on `KerasOptimizerState`). Keras
    /// assigns saved optimizer variables by position, so the order is the
    /// contract; the names are for people and for `restore`.
    /// - Parameter functional: Keras 3 prefixes slot names with the model
    ///   name for Sequential models only.
    public static func kerasWeights(of optimizer: Optimizer, model: any Model, keras3: Bool = true) -> [KerasOptimizerWeight] {
        var seen = Set<ObjectIdentifier>()
        let owned: [(layer: String, parameter: Parameter)] = model.layers.flatMap { layer in
            layer.parameters.filter { $0.isUpdated && seen.insert(ObjectIdentifier($0)).inserted }.map { (layer.name, $0) }
        }
        if optimizer.parameters.isEmpty { optimizer.build(owned.map(\.parameter)) }
        let prefix: String? = model is Sequential ? model.name : nil
        let group = keras3Group(optimizer)
        var weights = [KerasOptimizerWeight(name: keras3 ? "\(group)/iteration" : "iteration:0", shape: [],
                                            values: .int64([Int64(optimizer.iterations)]))]
        if keras3 {
            weights.append(KerasOptimizerWeight(name: "\(group)/learning_rate", shape: [],
                                                values: .float32([optimizer.currentLearningRate])))
        }
        let slots = optimizer.rule.slotNames
        for slotGroup in slotGroups(optimizer) {
            for (p, entry) in owned.enumerated() {
                let index = optimizer.parameters.firstIndex { $0 === entry.parameter } ?? p
                for s in slotGroup {
                    let name = slotName(slots[s], layer: entry.layer, variable: entry.parameter.name, modelName: prefix,
                                        optimizer: optimizer, keras3: keras3)
                    weights.append(KerasOptimizerWeight(name: name, tensor: optimizer.slot(s, of: index)))
                }
            }
        }
        return weights
    }
}
