/// How `modelport serve` runs: where it listens, what it serves, its limits.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port (printed on start).
    public var port = 8080
    /// Model files served (any format); the first is the default.
    public var modelPaths: [String] = []
    /// Whether people may upload their own model files to the workbench.
    public var allowUploads = false
    /// Largest request body for predictions, refused while it streams in.
    public var maxBodyBytes = 8 << 20
    /// Largest model (plus reference) upload.
    public var maxUploadBytes = 64 << 20
    /// Largest image decoded, in pixels (width x height), checked on the header.
    public var maxPixels = 16_000_000
    /// Most images in one request.
    public var maxImagesPerRequest = 256
    /// Most samples the compute thread runs in one `predict` call (1: no
    /// batching, one request after another).
    public var maxBatch = 64

    public init() {}
}
