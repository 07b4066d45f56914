import ModelPortRuntime

/// How the operation layers (`KerasOperations.swift`) are written back: as
/// Keras 3 op layers with their constants in the call (`.keras`), as tf-keras
/// `TFOpLambda` / `SlicingOpLambda` (Keras 2 `.h5`; a one-input call is one
/// `["layer", node, 0, {kwargs}]`, not wrapped in a list), or, in a legacy Keras 3
/// `.h5` (Keras 3 cannot load op layers from one, not even its own), as a
/// `Rescaling` where that computes exactly the same.
enum KerasOperationWriting {
    /// Write this standard layer in its place.
    case standardLayer(any Layer)
    /// An operation: its class, module (archives), config, and the call with
    /// the input tensors in place (one inbound node).
    case operation(className: String, module: String, config: [String: JSONValue], call: ([KerasWrittenTensor]) -> JSONValue)
}

/// One input tensor of a call, as each generation names it.
struct KerasWrittenTensor {
    /// `{"class_name": "__keras_tensor__", ...}`.
    let keras3: JSONValue
    /// `["layer", node, 0]`.
    let keras2: [JSONValue]
}

extension KerasCodecs {
    /// How `layer` is written in `dialect`, or nil when it is not an operation.
    /// - Throws: `KerasExportError` when the target cannot express it.
    static func operationWriting(_ layer: any Layer, dialect d: KerasConfigDialect) throws -> KerasOperationWriting? {
        switch layer {
        case let l as ConstantArithmetic: return try writing(l, d)
        case let l as UnaryMath: return try writing(l, d)
        case let l as StridedSlice: return try writing(l, d)
        case let l as Stack: return try writing(l, d)
        default: return nil
        }
    }

    private static func legacyKeras3Refusal(_ layer: any Layer) -> KerasExportError {
        unsupported(layer, "Keras 3 cannot load operation layers (TrueDivide, GetItem, ...) from a legacy .h5 file, not even its own; "
            + "write a .keras archive, or a Keras 2 .h5 (--keras-version 2)")
    }

    private static func keras3Op(_ className: String, _ config: [String: JSONValue] = [:], module: String = "keras.src.ops.numpy",
                                 args: @escaping ([KerasWrittenTensor]) -> [JSONValue]) -> KerasOperationWriting {
        .operation(className: className, module: module, config: config) { tensors in
            .object(["args": .array(args(tensors)), "kwargs": .object([:])])
        }
    }

    private static func tfOpLambda(_ function: String, className: String = "TFOpLambda",
                                   call: @escaping ([KerasWrittenTensor]) -> JSONValue) -> KerasOperationWriting {
        .operation(className: className, module: "keras.layers",
                   config: ["function": .string(function), "trainable": .bool(true), "dtype": .string("float32")], call: call)
    }

    /// A constant as nested lists of its shape (a number for a scalar).
    static func nested(_ t: Tensor) -> JSONValue {
        func build(_ axis: Int, _ offset: Int) -> JSONValue {
            if axis == t.rank { return num(t.scalars[offset]) }
            let inner = t.shape[(axis + 1)...].reduce(1, *)
            return .array((0..<t.shape[axis]).map { build(axis + 1, offset + $0 * inner) })
        }
        return build(0, 0)
    }

    private static func writing(_ l: ConstantArithmetic, _ d: KerasConfigDialect) throws -> KerasOperationWriting {
        switch d {
        case .legacyKeras3:
            // x + c, x - c, c - x and x * c are Rescaling exactly (x * 1 and x * -1 are exact in floating point).
            if let s = l.scalar {
                switch l.operation {
                case .add: return .standardLayer(Rescaling(name: l.name, scale: 1, offset: s))
                case .subtract: return .standardLayer(l.constantFirst ? Rescaling(name: l.name, scale: -1, offset: s) : Rescaling(name: l.name, scale: 1, offset: -s))
                case .multiply: return .standardLayer(Rescaling(name: l.name, scale: s, offset: 0))
                default: break
                }
            }
            throw legacyKeras3Refusal(l)
        case .archive:
            guard let className = keras3Operations.name(of: .arithmetic(l.operation)) else { throw unsupported(l, "Keras 3 has no spelling for it") }
            let constant: JSONValue = l.scalar.map { num($0) }
                ?? .object(["class_name": .string("__tensor__"), "config": .object(["value": nested(l.constant), "dtype": .string("float32")])])
            let first = l.constantFirst
            return keras3Op(className) { t in first ? [constant, t[0].keras3] : [t[0].keras3, constant] }
        case .legacyKeras2:
            guard let function = tfOperations.name(of: .arithmetic(l.operation)) else { throw unsupported(l, "tf-keras has no spelling for it") }
            let first = l.constantFirst
            let constant = first ? floatSpelled(nested(l.constant)) : nested(l.constant)
            return tfOpLambda(function) { t in
                first
                    ? .array([.string("_CONSTANT_VALUE"), .number(-1), constant, .object(["y": .array(t[0].keras2), "name": .null])])
                    : .array(t[0].keras2 + [.object(["y": constant, "name": .null])])
            }
        }
    }

    /// A constant first operand as TensorFlow reads it as float32: JSON writes
    /// 1.0 as 1, which TensorFlow makes an int32 tensor (and then refuses to
    /// subtract a float from), so an integral value is written as the next
    /// double up (1.0000000000000002), which rounds back to it in float32.
    static func floatSpelled(_ v: JSONValue) -> JSONValue {
        if let a = v.array { return .array(a.map(floatSpelled)) }
        guard let d = v.number, d.rounded() == d else { return v }
        return .number(d.nextUp)
    }

    private static func writing(_ l: UnaryMath, _ d: KerasConfigDialect) throws -> KerasOperationWriting {
        switch d {
        case .legacyKeras3:
            if l.function == .negative { return .standardLayer(Rescaling(name: l.name, scale: -1, offset: 0)) }
            throw legacyKeras3Refusal(l)
        case .archive:
            guard let className = keras3Operations.name(of: .unary(l.function)) else { throw unsupported(l, "Keras 3 has no spelling for it") }
            return keras3Op(className) { t in [t[0].keras3] }
        case .legacyKeras2:
            guard let function = tfOperations.name(of: .unary(l.function)) else { throw unsupported(l, "tf-keras has no spelling for it") }
            return tfOpLambda(function) { t in .array(t[0].keras2 + [.object(["name": .null])]) }
        }
    }

    private static func writing(_ l: StridedSlice, _ d: KerasConfigDialect) throws -> KerasOperationWriting {
        func bound(_ v: Int?) -> JSONValue { v.map { .number(Double($0)) } ?? .null }
        // The batch axis first, whole.
        let axes = [StridedSlice.Axis.all] + l.axes
        switch d {
        case .legacyKeras3:
            throw legacyKeras3Refusal(l)
        case .archive:
            let spec: [JSONValue] = axes.map { axis in
                switch axis {
                case .index(let i): return .number(Double(i))
                case .range(let start, let stop, let step):
                    return .object(["class_name": .string("__slice__"), "config": .object([
                        "start": bound(start), "stop": bound(stop), "step": step == 1 ? .null : .number(Double(step)),
                    ])])
                }
            }
            return keras3Op("GetItem") { t in [t[0].keras3, .array(spec)] }
        case .legacyKeras2:
            let spec: [JSONValue] = axes.map { axis in
                switch axis {
                case .index(let i): return .number(Double(i))
                case .range(let start, let stop, let step):
                    return .object(["start": bound(start), "stop": bound(stop), "step": step == 1 ? .null : .number(Double(step))])
                }
            }
            return tfOpLambda("__operators__.getitem", className: "SlicingOpLambda") { t in
                .array(t[0].keras2 + [.object(["slice_spec": .array(spec)])])
            }
        }
    }

    private static func writing(_ l: Stack, _ d: KerasConfigDialect) throws -> KerasOperationWriting {
        // Keras counts the batch axis.
        let axis = JSONValue.number(Double(l.axis < 0 ? l.axis : l.axis + 1))
        switch d {
        case .legacyKeras3:
            throw legacyKeras3Refusal(l)
        case .archive:
            return keras3Op("Stack", ["axis": axis]) { t in [.array(t.map(\.keras3))] }
        case .legacyKeras2:
            return tfOpLambda("stack") { t in .array(t.map { .array($0.keras2 + [.object(["axis": axis])]) }) }
        }
    }
}
