/// A failed HDF5 operation: what was attempted, on which file and object, and why.
///
/// Every negative return from the C library becomes one of these, carrying
/// HDF5's own description of the failure when it has one.
public struct HDF5Error: Error, CustomStringConvertible, Sendable {
    /// The broad class of failure, for callers that want to react to it.
    public enum Kind: Sendable, Equatable {
        /// The file, object or attribute does not exist.
        case notFound
        /// The object exists but is the wrong kind (a group opened as a dataset,
        /// a string attribute read as numbers, ...).
        case wrongType
        /// The file exists but is not an HDF5 file.
        case notHDF5
        /// The file claims to be HDF5 but its structures or data are damaged.
        case corrupt
        /// Reading, writing or creating failed for a reason outside the file's contents.
        case io
        /// The data is larger than `HDF5Limits` allows (or than memory can address).
        case tooLarge
        /// The caller passed something HDF5 cannot store or find (bad shape, name, ...).
        case invalidArgument
        /// The file asks for something ModelPort refuses to do: data kept in
        /// other files (external storage, virtual datasets), filter plugins.
        case refused
    }

    /// The broad class of failure.
    public let kind: Kind
    /// The file path as given by the caller.
    public let file: String
    /// The absolute path of the object inside the file, e.g. `/model_weights/conv2d`, or `/`.
    public let objectPath: String
    /// What was attempted, e.g. `open file`, `read attribute 'layer_names'`, `read dataset`.
    public let operation: String
    /// HDF5's own words about the failure, or ours when HDF5 gave none.
    public let message: String

    /// Creates an error; normally only this module does so.
    public init(kind: Kind, file: String, objectPath: String, operation: String, message: String) {
        self.kind = kind
        self.file = file
        self.objectPath = objectPath
        self.operation = operation
        self.message = message
    }

    /// `<file>: cannot <operation> at '<objectPath>': <message>`.
    public var description: String {
        "\(file): cannot \(operation) at '\(objectPath)': \(message)"
    }
}

/// Where an operation is happening, so failures can name the file and object.
struct HDF5Site: Sendable {
    let file: String
    let path: String

    /// An error whose message is HDF5's current error stack (which is then
    /// cleared), or `fallback` when the stack is empty.
    ///
    /// Must be called with the HDF5 lock held, straight after the failing call.
    func failure(_ kind: HDF5Error.Kind, _ operation: String, _ fallback: String) -> HDF5Error {
        let taken = takeHDF5ErrorMessage()
        return HDF5Error(
            kind: kind, file: file, objectPath: path, operation: operation,
            message: taken.isEmpty ? fallback : taken)
    }

    /// An error with our own message. Needs no lock: every HDF5 API call
    /// clears the error stack on entry, so nothing stale reaches a message.
    func error(_ kind: HDF5Error.Kind, _ operation: String, _ message: String) -> HDF5Error {
        return HDF5Error(kind: kind, file: file, objectPath: path, operation: operation, message: message)
    }

    /// The same file, another object.
    func at(_ path: String) -> HDF5Site { HDF5Site(file: file, path: path) }
}
