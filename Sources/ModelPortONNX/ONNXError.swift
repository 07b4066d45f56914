/// Why an ONNX file could not be read, written or converted. The description
/// names the file and, where there is one, the node, its operator and the
/// attribute at fault.
public struct ONNXError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let node: String?
    public let op: String?
    public let message: String

    public init(file: String, node: String? = nil, op: String? = nil, message: String) {
        self.file = file
        self.node = node
        self.op = op
        self.message = message
    }

    public var description: String {
        var place = file
        if let node, !node.isEmpty { place += ": node '\(node)'" + (op.map { " (\($0))" } ?? "") }
        else if let op { place += ": \(op)" }
        return "\(place): \(message)"
    }
}
