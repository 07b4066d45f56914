/// Layer names made unique the way Keras names a model's outputs
/// (`model.output_names`): a layer that produces two outputs (a shared layer
/// called twice) is `dense`, then `dense_1`, `dense_2`...
func uniqueOutputNames(_ layerNames: [String]) -> [String] {
    var used = Set<String>()
    var nextSuffix: [String: Int] = [:]
    return layerNames.map { name in
        var proposal = name
        while used.contains(proposal) {
            let k = nextSuffix[name, default: 1]
            proposal = "\(name)_\(k)"
            nextSuffix[name] = k + 1
        }
        used.insert(proposal)
        return proposal
    }
}
