import ArgumentParser
import Foundation
import Logging
import ModelPortServer

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the digit recognizer page, the model workbench and a JSON API over HTTP.",
        discussion: """
            With no model, serves the bundled fixtures/mnist_digit_model.h5. Several models \
            (.h5, .keras, .onnx) can be served at once; the pages offer a menu and the API takes \
            ?model=ID (the file name without its extension).

            Pages: / (draw, upload, drop or paste a digit), /models (inspect, validate, convert). \
            API: /openapi.json describes it; GET /healthz answers while the server runs. \
            SIGINT or SIGTERM stop it after the requests in flight are answered.

            --allow-uploads lets people check their own model files on /models. Each upload is \
            parsed in a separate modelport process with resource limits (MODELPORT_UNTRUSTED_MEMORY, \
            default 2G here; MODELPORT_UNTRUSTED_SECONDS, default 30) and deleted afterwards.

            Examples:
              modelport serve
              modelport serve fixtures/mnist_digit_model.h5 fixtures/mnist_cnn.h5 --port 9000
              modelport serve --port 0 --allow-uploads     (port 0: any free port, printed on start)
            """)

    @Argument(help: ArgumentHelp("Model files to serve: Keras .h5 or .keras, or ONNX .onnx.", valueName: "model"))
    var models: [String] = []

    @Option(help: "The address to listen on (127.0.0.1: this machine only; 0.0.0.0: every interface).")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on (0: any free port).")
    var port = 8080

    @Flag(help: "Let people upload their own model (and reference) files to the workbench.")
    var allowUploads = false

    @Option(help: "Largest prediction request body, in bytes.")
    var maxBodyBytes = 8 << 20

    @Option(help: "Largest model upload (model plus reference), in bytes.")
    var maxUploadBytes = 64 << 20

    @Option(help: "Largest image decoded, in pixels (width x height, read from the header first).")
    var maxPixels = 16_000_000

    @Option(help: ArgumentHelp("Most requests answered by one batched model run (1: one at a time).", visibility: .hidden))
    var maxBatch = 64

    @OptionGroup var trust: TrustOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard maxBodyBytes > 0, maxUploadBytes > 0, maxPixels > 0, (1...1024).contains(maxBatch) else { throw ValidationError("limits must be positive") }
    }

    // Synchronous, so the root command stays synchronous: the hidden isolated-load child
    // must start without the concurrency runtime's threads under its small address-space limit.
    func run() throws {
        trust.apply()
        // Uploads are checked in a child under these limits unless the environment says otherwise.
        setenv("MODELPORT_UNTRUSTED_MEMORY", "2G", 0)
        setenv("MODELPORT_UNTRUSTED_SECONDS", "30", 0)
        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.allowUploads = allowUploads
        configuration.maxBodyBytes = maxBodyBytes
        configuration.maxUploadBytes = maxUploadBytes
        configuration.maxPixels = maxPixels
        configuration.maxBatch = maxBatch
        let registry: ModelRegistry
        do {
            configuration.modelPaths = models.isEmpty ? [try DefaultFixtures.locate("mnist_digit_model.h5")] : models
            registry = try ModelRegistry.load(configuration.modelPaths)
        } catch {
            printError("error: \(error)")
            throw ExitCode(2)
        }
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "modelport.serve")
        logger.logLevel = .info
        let server = ModelServer(configuration: configuration, registry: registry)
        let served = registry.models.map { "\($0.id) (\($0.file.displayPath))" }.joined(separator: ", ")
        let outcome = ServeOutcome()
        let finished = DispatchSemaphore(value: 0)
        Task {
            do {
                try await server.run(logger: logger) { url in
                    // Written at once and unbuffered: scripts wait for this line to learn the port.
                    let text = "Serving \(served)\nOpen \(url) in a browser (workbench: \(url)models, API: \(url)openapi.json). Ctrl+C stops.\n"
                    FileHandle.standardOutput.write(Data(text.utf8))
                }
            } catch {
                outcome.failure = "\(error)"
            }
            finished.signal()
        }
        finished.wait()
        if let failure = outcome.failure {
            printError("error: cannot serve on \(host):\(port): \(failure)")
            throw ExitCode(2)
        }
    }
}

/// How the server task ended, read once the main thread stops waiting for it.
private final class ServeOutcome: @unchecked Sendable {
    var failure: String?
}
