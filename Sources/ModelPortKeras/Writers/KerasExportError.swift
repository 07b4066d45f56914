/// Why a model could not be written as a Keras file. The description names
/// the destination and, where there is one, the layer and its class.
public struct KerasExportError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let layer: String?
    public let className: String?
    public let message: String

    public init(file: String, layer: String? = nil, className: String? = nil, message: String) {
        self.file = file
        self.layer = layer
        self.className = className
        self.message = message
    }

    public var description: String {
        var place = file
        if let layer { place += ": layer '\(layer)'" + (className.map { " (\($0))" } ?? "") }
        return "\(place): \(message)"
    }
}
