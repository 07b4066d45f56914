// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ModelPort",
    platforms: [.macOS(.v13)],
    products: [
        // MARK: - Public API
        .executable(name: "modelport", targets: ["ModelPortCLI"]),
        .library(name: "ModelPortRuntime", targets: ["ModelPortRuntime"]),
        .library(name: "ModelPortHDF5", targets: ["ModelPortHDF5"]),
        .library(name: "ModelPortKeras", targets: ["ModelPortKeras"]),
        .library(name: "ModelPortData", targets: ["ModelPortData"]),
        .library(name: "ModelPortValidation", targets: ["ModelPortValidation"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // MARK: - C libraries (implementation details, not API)
        // Each is a module map plus a small shim header; nothing outside the
        // matching Swift wrapper module touches their pointers.
        .systemLibrary(
            name: "CHDF5", pkgConfig: "hdf5",
            providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(
            name: "CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),

        // MARK: - Libraries
        /// Swift ownership and errors over the HDF5 C library.
        .target(name: "ModelPortHDF5", dependencies: ["CHDF5"]),
        /// Tensors, layers, models. Knows nothing about files.
        .target(name: "ModelPortRuntime", dependencies: ["CBLAS"]),
        /// Keras .h5 files to and from runtime models.
        .target(name: "ModelPortKeras", dependencies: ["ModelPortRuntime", "ModelPortHDF5"]),
        /// Datasets: MNIST IDX files.
        .target(name: "ModelPortData", dependencies: ["ModelPortRuntime", "CZlib"]),
        /// Reference files and element-by-element comparison of predictions.
        .target(name: "ModelPortValidation", dependencies: ["ModelPortRuntime", "ModelPortHDF5"]),

        // MARK: - Command-line tool
        .executableTarget(
            name: "ModelPortCLI",
            dependencies: [
                "ModelPortRuntime", "ModelPortHDF5", "ModelPortKeras", "ModelPortData",
                "ModelPortValidation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // MARK: - Tests
        .target(name: "TestSupport", dependencies: ["ModelPortRuntime"], path: "Tests/TestSupport"),
        .testTarget(name: "ModelPortHDF5Tests", dependencies: ["ModelPortHDF5", "TestSupport"]),
        .testTarget(name: "ModelPortRuntimeTests", dependencies: ["ModelPortRuntime", "TestSupport"]),
        .testTarget(
            name: "ModelPortKerasTests",
            dependencies: ["ModelPortKeras", "ModelPortValidation", "ModelPortHDF5", "TestSupport"]),
        .testTarget(name: "ModelPortDataTests", dependencies: ["ModelPortData", "TestSupport"]),
        .testTarget(
            name: "ModelPortCLITests",
            dependencies: ["ModelPortKeras", "ModelPortValidation", "TestSupport"]),
    ]
)
