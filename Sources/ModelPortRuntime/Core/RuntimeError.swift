/// Errors raised while assembling or running a model (shapes that do not fit).
public struct RuntimeError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
