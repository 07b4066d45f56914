import Foundation
import Testing
import TestSupport
@testable import ModelPortHDF5

/// Datasets whose data is not inside the file, made with h5py as a hostile
/// file would be: HDF5 must never be allowed to read another file for them.
@Suite struct StorageTests {
    /// Writes `/d` (float32, 4 x 4) with h5py: `external` names the raw
    /// data file (h5py's `external=`), `virtual` maps it from another file,
    /// `unallocated` declares it without writing it.
    static func make(_ path: String, kind: String, target: String = "") throws {
        _ = try python("""
            import sys, h5py, numpy as np
            path, kind, target = sys.argv[1:4]
            with h5py.File(path, "w") as f:
                if kind == "external":
                    f.create_dataset("d", shape=(4, 4), dtype="f4", external=[(target, 0, h5py.h5f.UNLIMITED)])
                elif kind == "virtual":
                    with h5py.File(target, "w") as g:
                        g.create_dataset("s", data=np.arange(16, dtype="f4").reshape(4, 4))
                    layout = h5py.VirtualLayout(shape=(4, 4), dtype="f4")
                    layout[:] = h5py.VirtualSource(target, "s", shape=(4, 4))
                    f.create_virtual_dataset("d", layout)
                elif kind == "unallocated":
                    f.create_dataset("d", shape=(1 << 14, 1 << 14), dtype="f4")
                elif kind == "chunked-unallocated":
                    f.create_dataset("d", shape=(1 << 14, 1 << 14), dtype="f4", chunks=(256, 256), compression="gzip")
                else:
                    f.create_dataset("d", data=np.arange(16, dtype="f4").reshape(4, 4))
            """, [path, kind, target])
    }

    @Test(arguments: ["/etc/passwd", "/dev/zero", "fifo"])
    func externalStorageIsRefused(_ target: String) throws {
        let path = temporaryFile("external.h5")
        var raw = target
        if target == "fifo" {
            raw = (path as NSString).deletingLastPathComponent + "/data.fifo"
            #expect(mkfifo(raw, 0o600) == 0)
        }
        try Self.make(path, kind: "external", target: raw)
        let file = try HDF5File(openingAt: path)
        let error = expectHDF5Error(.refused, file: path, objectPath: "/d") {
            _ = try file.root.dataset("d").read(as: Float.self)
        }
        #expect(error?.message.contains("external storage") == true)
    }

    @Test func virtualDatasetsAreRefused() throws {
        let path = temporaryFile("virtual.h5")
        try Self.make(path, kind: "virtual", target: (path as NSString).deletingLastPathComponent + "/source.h5")
        let file = try HDF5File(openingAt: path)
        let error = expectHDF5Error(.refused, file: path, objectPath: "/d") {
            _ = try file.root.dataset("d").read(as: Float.self)
        }
        #expect(error?.message.contains("virtual dataset") == true)
    }

    /// 2^28 elements declared in a file of a few kilobytes: refused before a
    /// gigabyte of fill values is allocated.
    @Test(arguments: ["unallocated", "chunked-unallocated"])
    func unallocatedDataIsRefused(_ kind: String) throws {
        let path = temporaryFile("unallocated.h5")
        try Self.make(path, kind: kind)
        let file = try HDF5File(openingAt: path)
        let error = expectHDF5Error(.corrupt, file: path, objectPath: "/d") {
            _ = try file.root.dataset("d").read(as: Float.self)
        }
        #expect(error?.message.contains("never written") == true, "\(String(describing: error))")
    }

    @Test func ordinaryDatasetsStillRead() throws {
        let path = temporaryFile("plain.h5")
        try Self.make(path, kind: "plain")
        let values = try HDF5File(openingAt: path).root.dataset("d").read(as: Float.self)
        #expect(values == (0..<16).map(Float.init))
    }
}
