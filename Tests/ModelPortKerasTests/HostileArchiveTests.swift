import Foundation
import Testing
import TestSupport
@testable import ModelPortKeras

/// `.keras` archives altered the way a damaged download or a hostile sender
/// would alter them, made from a real Keras archive with Python's zipfile.
@Suite struct HostileArchiveTests {
    static let original = TestPaths.fixture("coverage/cov_conv.keras")

    /// Rewrites the archive to `out` with `change` applied (see the script).
    static func make(_ change: String) throws -> String {
        let out = TestPaths.temporaryDirectory("keras-archive").appendingPathComponent("\(change).keras").path
        _ = try python("""
            import sys, zipfile, zlib, struct
            src, out, change = sys.argv[1:4]
            members = [(i, zipfile.ZipFile(src).read(i.filename)) for i in zipfile.ZipFile(src).infolist()]
            with zipfile.ZipFile(out, "w") as z:
                for info, data in members:
                    method = zipfile.ZIP_DEFLATED if change == "bomb" and info.filename == "model.weights.h5" else zipfile.ZIP_STORED
                    z.writestr(info.filename, data, compress_type=method)
                if change == "duplicate":
                    z.writestr("model.weights.h5", members[2][1][:-1] + b"x")
            raw = bytearray(open(out, "rb").read())
            if change == "stale-crc":
                # One byte of the stored weights changes; the recorded CRC-32 stays.
                at = raw.find(b"\\x89HDF") + 2048
                raw[at] ^= 0x01
            if change == "bomb":
                # The weights member declares 1/4 of what it inflates to, in both headers.
                real = len(members[2][1])
                for signature, offset in ((b"PK\\x03\\x04", 22), (b"PK\\x01\\x02", 24)):
                    at = 0
                    while (at := raw.find(signature, at)) >= 0:
                        name_at = at + (30 if signature == b"PK\\x03\\x04" else 46)
                        if raw[name_at:name_at + 16] == b"model.weights.h5":
                            struct.pack_into("<I", raw, at + offset, real // 4)
                        at += 4
            open(out, "wb").write(bytes(raw))
            """, [original, out, change])
        return out
    }

    static func loadError(_ path: String) -> KerasImportError? {
        #expect(throws: KerasImportError.self) { _ = try ModelLoader.load(path) }
    }

    @Test func theUnalteredRewriteLoads() throws {
        _ = try ModelLoader.load(try Self.make("none"))
    }

    /// Python's zipfile (so Keras) refuses it with "Bad CRC-32".
    @Test func aMemberWhoseBytesNoLongerMatchItsCRCIsRefused() throws {
        let path = try Self.make("stale-crc")
        let error = Self.loadError(path)
        #expect(error?.description.contains("model.weights.h5 fails its CRC-32 check") == true, "\(String(describing: error))")
    }

    /// zipfile takes the last of two members of one name, ZIPFoundation the first.
    @Test func duplicateMembersAreRefused() throws {
        let error = Self.loadError(try Self.make("duplicate"))
        #expect(error?.description.contains("duplicate members named 'model.weights.h5'") == true, "\(String(describing: error))")
    }

    /// Inflation stops as soon as a member exceeds what it declares.
    @Test func aMemberThatInflatesBeyondItsDeclaredSizeIsRefused() throws {
        let error = Self.loadError(try Self.make("bomb"))
        #expect(error?.description.contains("inflates to more than") == true, "\(String(describing: error))")
    }
}
