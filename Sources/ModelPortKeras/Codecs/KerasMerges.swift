import ModelPortRuntime

/// Keras merge layers: `Add`, `Subtract`, `Multiply`, `Average`, `Maximum`,
/// `Minimum`, and `Concatenate(axis)` (Keras counts the batch axis).
extension KerasCodecs {
    static let merges = KerasFamily("merges", [AnyKerasCodec(merge)])

    static let merge = KerasCodec<Merge>(classNames: Merge.Operation.allCases.map(\.rawValue), decode: { a, _ in
        guard let operation = Merge.Operation(rawValue: a.className) else { throw a.error("not a merge layer") }
        var axis = -1
        if operation == .concatenate {
            axis = try a.int("axis", default: -1, range: -32...32)
            guard axis != 0 else { throw a.error("concatenating along the batch axis is not supported", argument: "axis") }
            if axis > 0 { axis -= 1 }
        }
        return Merge(name: a.name, operation: operation, axis: axis)
    }, encode: { m, _ in
        m.operation == .concatenate ? ["axis": .number(Double(m.axis < 0 ? m.axis : m.axis + 1))] : [:]
    })
}
