/// Why a Keras file could not be turned into a runtime model. The description
/// names the file and, where there is one, the layer, its class and the
/// argument at fault.
public struct KerasImportError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let layer: String?
    public let className: String?
    public let argument: String?
    public let message: String

    public init(file: String, layer: String? = nil, className: String? = nil, argument: String? = nil, message: String) {
        self.file = file
        self.layer = layer
        self.className = className
        self.argument = argument
        self.message = message
    }

    public var description: String {
        var where_ = file
        if let layer { where_ += ": layer '\(layer)'" + (className.map { " (\($0))" } ?? "") }
        else if let className { where_ += ": \(className)" }
        if let argument { where_ += ", argument '\(argument)'" }
        return "\(where_): \(message)"
    }
}
