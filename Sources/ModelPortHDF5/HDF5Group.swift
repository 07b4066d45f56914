internal import CHDF5

/// A group: a directory of named groups and datasets, plus attributes.
///
/// Paths given to its methods are relative to the group (`a/b/c`, names may
/// contain `:`), or absolute from the file's root when they start with `/`.
public final class HDF5Group: HDF5Object, @unchecked Sendable {
    /// What a path leads to.
    enum Target: Equatable {
        case group, dataset, other
        /// Nothing usable there; the reason says why.
        case missing(String)
    }

    /// Follows an absolute path component by component, so a missing or
    /// non-group intermediate is an answer rather than an HDF5 error.
    /// External links are never followed.
    ///
    /// Call with the lock held.
    func locate(_ absolute: String) -> Target {
        // Absolute names resolve from the file's root whatever the location.
        let location = handle.id
        let lapl = hdf5LinkAccess
        defer { clearHDF5ErrorStack() }
        var parent = "/"
        var target = Target.group
        for prefix in HDF5Path.prefixes(absolute) {
            guard target == .group else { return .missing("'\(parent)' is not a group") }
            let name = HDF5Path.lastComponent(prefix)
            guard H5Lexists(location, prefix, lapl) > 0 else {
                return .missing("no object named '\(name)' in '\(parent)'")
            }
            var link = H5L_info_t()
            guard H5Lget_info(location, prefix, &link, lapl) >= 0 else {
                return .missing("cannot read link '\(prefix)': \(takeHDF5ErrorMessage())")
            }
            if link.type == H5L_TYPE_EXTERNAL {
                return .missing("'\(prefix)' is an external link to another file, which is not followed")
            }
            let exists = H5Oexists_by_name(location, prefix, lapl)
            guard exists > 0 else {
                if exists == 0 { return .missing("'\(prefix)' is a link to nothing") }
                return .missing("cannot resolve '\(prefix)': \(takeHDF5ErrorMessage())")
            }
            var info = H5O_info_t()
            guard H5Oget_info_by_name2(location, prefix, &info, UInt32(H5O_INFO_BASIC), lapl) >= 0 else {
                return .missing("cannot read object header of '\(prefix)': \(takeHDF5ErrorMessage())")
            }
            switch info.type {
            case H5O_TYPE_GROUP: target = .group
            case H5O_TYPE_DATASET: target = .dataset
            default: target = .other
            }
            parent = prefix
        }
        return target
    }

    /// Resolves `relativePath` from this group.
    func absolute(_ relativePath: String) -> String {
        HDF5Path.resolve(relativePath, from: path)
    }

    /// Opens the object at `absolute`, which `locate` found to be `expected`.
    /// Call with the lock held.
    /// - Throws: `HDF5Error` `.notFound`, `.wrongType` or `.corrupt`.
    private func open(_ absolute: String, expecting expected: Target, _ operation: String) throws(HDF5Error)
        -> HDF5Handle
    {
        let site = HDF5Site(file: file.path, path: absolute)
        let noun = expected == .group ? "group" : "dataset"
        switch locate(absolute) {
        case .missing(let reason):
            throw site.error(.notFound, operation, reason)
        case let found where found != expected:
            let actual = found == .group ? "a group" : found == .dataset ? "a dataset" : "a named datatype or other object"
            throw site.error(.wrongType, operation, "is \(actual), not a \(noun)")
        default:
            break
        }
        let object = try site.own(H5Oopen(file.handle.id, absolute, hdf5LinkAccess), .object, .corrupt, operation)
        let idType = H5Iget_type(object.id)
        guard (expected == .group && idType == H5I_GROUP) || (expected == .dataset && idType == H5I_DATASET) else {
            throw site.error(.corrupt, operation, "object header does not describe a \(noun)")
        }
        return object
    }

    // MARK: - Looking

    /// Names of the direct children that are groups or datasets, sorted by
    /// name as HDF5's name index does (byte order). Dangling links, external
    /// links and named datatypes are left out.
    /// - Throws: `HDF5Error` `.corrupt` if HDF5 cannot list the group.
    /// Checks every dataset below this group with `HDF5Dataset.checkStored()`
    /// before anything is read or allocated for them: a file of a few kilobytes
    /// declaring gigabytes of weights it never wrote is refused up front.
    /// Groups are visited at most `maxDepth` deep and `maxObjects` in all
    /// (hard links can make a group contain itself).
    /// - Throws: `HDF5Error` for the first dataset that fails, or `.corrupt` past the bounds.
    public func checkDataStored(maxDepth: Int = 64, maxObjects: Int = 100_000) throws {
        var visited = 0
        func visit(_ group: HDF5Group, depth: Int) throws {
            guard depth <= maxDepth else {
                throw site.error(.corrupt, "check datasets", "groups nest more than \(maxDepth) deep (a group that contains itself?)")
            }
            for name in try group.childNames() {
                visited += 1
                guard visited <= maxObjects else {
                    throw site.error(.corrupt, "check datasets", "holds more than \(maxObjects) objects")
                }
                if group.isGroup(name) { try visit(try group.group(name), depth: depth + 1) }
                else if group.isDataset(name) { try group.dataset(name).checkStored() }
            }
        }
        try visit(self, depth: 0)
    }

    public func childNames() throws -> [String] {
        let site = site
        let operation = "list group"
        return try withHDF5 { () throws(HDF5Error) -> [String] in
            var info = H5G_info_t()
            try site.check(H5Gget_info(handle.id, &info), .corrupt, operation)
            guard info.nlinks <= UInt64(HDF5Limits.maxElements) else {
                throw site.error(.tooLarge, operation, "group claims \(info.nlinks) links")
            }
            var names: [String] = []
            for index in 0..<info.nlinks {
                let name = try HDF5Object.name(site: site, operation: operation) { buffer, size in
                    H5Lget_name_by_idx(
                        handle.id, ".", H5_INDEX_NAME, H5_ITER_INC, hsize_t(index), buffer, size, hdf5LinkAccess)
                }
                switch locate(HDF5Path.resolve(name, from: path)) {
                case .group, .dataset: names.append(name)
                case .other, .missing: break
                }
            }
            return names
        }
    }

    /// Whether anything exists at `relativePath` (`""` and `/` always do). Never throws.
    public func exists(_ relativePath: String) -> Bool {
        let absolute = absolute(relativePath)
        return withHDF5 {
            if case .missing = locate(absolute) { return false }
            return true
        }
    }

    /// Whether `relativePath` leads to a group. Never throws.
    public func isGroup(_ relativePath: String) -> Bool {
        let absolute = absolute(relativePath)
        return withHDF5 { locate(absolute) == .group }
    }

    /// Whether `relativePath` leads to a dataset. Never throws.
    public func isDataset(_ relativePath: String) -> Bool {
        let absolute = absolute(relativePath)
        return withHDF5 { locate(absolute) == .dataset }
    }

    /// The group at `relativePath`.
    /// - Throws: `HDF5Error` `.notFound` if missing, `.wrongType` if it is a
    ///   dataset, `.corrupt` if it cannot be opened.
    public func group(_ relativePath: String) throws -> HDF5Group {
        let absolute = absolute(relativePath)
        let handle = try withHDF5 { () throws(HDF5Error) -> HDF5Handle in
            try open(absolute, expecting: .group, "open group")
        }
        return HDF5Group(file: file, path: absolute, handle: handle)
    }

    /// The dataset at `relativePath`.
    /// - Throws: `HDF5Error` `.notFound` if missing, `.wrongType` if it is a
    ///   group, `.corrupt` if it cannot be opened.
    public func dataset(_ relativePath: String) throws -> HDF5Dataset {
        let absolute = absolute(relativePath)
        let handle = try withHDF5 { () throws(HDF5Error) -> HDF5Handle in
            try open(absolute, expecting: .dataset, "open dataset")
        }
        return HDF5Dataset(file: file, path: absolute, handle: handle)
    }

    // MARK: - Creating

    /// Checks that `absolute` can be created and returns a link-creation
    /// property list that creates missing intermediate groups. Call with the lock held.
    /// - Throws: `HDF5Error` `.invalidArgument` for the root, an existing path
    ///   or a read-only file.
    private func prepareCreation(_ absolute: String, _ operation: String) throws(HDF5Error) -> HDF5Handle {
        let site = HDF5Site(file: file.path, path: absolute)
        guard file.mode == .readWrite else { throw site.error(.invalidArgument, operation, "file is open read-only") }
        guard absolute != "/" else { throw site.error(.invalidArgument, operation, "the root group always exists") }
        if case .missing = locate(absolute) {} else {
            throw site.error(.invalidArgument, operation, "an object already exists there")
        }
        let lcpl = try site.own(H5Pcreate(mp_H5P_LINK_CREATE()), .propertyList, .io, operation)
        try site.check(H5Pset_create_intermediate_group(lcpl.id, 1), .io, operation)
        return lcpl
    }

    /// Creates a group at `relativePath`, and any missing groups above it.
    /// - Throws: `HDF5Error` `.invalidArgument` if something exists there or
    ///   the file is read-only, `.io` if HDF5 cannot create it (e.g. a dataset
    ///   is in the way).
    public func createGroup(_ relativePath: String) throws -> HDF5Group {
        let absolute = absolute(relativePath)
        let site = HDF5Site(file: file.path, path: absolute)
        let operation = "create group"
        let handle = try withHDF5 { () throws(HDF5Error) -> HDF5Handle in
            let lcpl = try prepareCreation(absolute, operation)
            return try site.own(
                H5Gcreate2(file.handle.id, absolute, lcpl.id, mp_H5P_DEFAULT(), mp_H5P_DEFAULT()),
                .object, .io, operation)
        }
        return HDF5Group(file: file, path: absolute, handle: handle)
    }

    /// The group at `relativePath`, created (with any missing parents) if nothing is there.
    /// - Throws: `HDF5Error` `.wrongType` if a dataset is there, otherwise as
    ///   `group(_:)` and `createGroup(_:)`.
    public func requireGroup(_ relativePath: String) throws -> HDF5Group {
        try withHDF5 {
            exists(relativePath) ? try group(relativePath) : try createGroup(relativePath)
        }
    }

    /// Creates a numeric dataset at `relativePath` (and any missing groups
    /// above it) holding `values` in row-major order.
    ///
    /// - Parameters:
    ///   - shape: `[]` for a scalar; its element count must equal `values.count`.
    ///   - gzipLevel: 0...9 to store chunked and deflate-compressed (ignored,
    ///     contiguous storage, when the dataset has no elements).
    /// - Throws: `HDF5Error` `.invalidArgument` for a bad shape or level, an
    ///   existing path or a read-only file; `.io` if HDF5 cannot write.
    public func createDataset<T: HDF5Scalar>(
        _ relativePath: String, shape: [Int], values: [T], gzipLevel: Int? = nil
    ) throws -> HDF5Dataset {
        let absolute = absolute(relativePath)
        let site = HDF5Site(file: file.path, path: absolute)
        let operation = "create dataset"
        try HDF5Dataspace.checkCount(shape: shape, count: values.count, site: site, operation: operation)
        if let level = gzipLevel {
            guard (0...9).contains(level) else {
                throw site.error(.invalidArgument, operation, "gzip level \(level) is not in 0...9")
            }
            guard !shape.isEmpty else {
                throw site.error(.invalidArgument, operation, "a scalar dataset cannot be compressed")
            }
        }
        let handle = try withHDF5 { () throws(HDF5Error) -> HDF5Handle in
            let lcpl = try prepareCreation(absolute, operation)
            let memType = try T.nativeTypeID(site: site, operation: operation)
            let space = try HDF5Dataspace.make(shape: shape, site: site, operation: operation)
            let dcpl = try site.own(H5Pcreate(mp_H5P_DATASET_CREATE()), .propertyList, .io, operation)
            if let level = gzipLevel, !values.isEmpty {
                guard H5Zfilter_avail(H5Z_filter_t(H5Z_FILTER_DEFLATE)) > 0 else {
                    throw site.failure(.io, operation, "this HDF5 library has no gzip (deflate) filter")
                }
                let chunk = HDF5Group.chunkShape(for: shape, elementSize: MemoryLayout<T>.size)
                try site.check(H5Pset_chunk(dcpl.id, Int32(chunk.count), chunk), .io, operation)
                try site.check(H5Pset_deflate(dcpl.id, UInt32(level)), .io, operation)
            }
            let dataset = try site.own(
                H5Dcreate2(file.handle.id, absolute, memType, space.id, lcpl.id, dcpl.id, mp_H5P_DEFAULT()),
                .object, .io, operation)
            let payload = HDF5Payload(source: .dataset(dataset), site: site, noun: "dataset")
            try payload.writeNumeric(values, memType: memType, "write dataset")
            return dataset
        }
        return HDF5Dataset(file: file, path: absolute, handle: handle)
    }

    /// Creates a 1-D dataset of variable-length UTF-8 strings at `relativePath`
    /// (and any missing groups above it).
    /// - Throws: `HDF5Error` `.invalidArgument` for an existing path or a
    ///   read-only file; `.io` if HDF5 cannot write.
    public func createStringDataset(_ relativePath: String, strings: [String]) throws -> HDF5Dataset {
        let absolute = absolute(relativePath)
        let site = HDF5Site(file: file.path, path: absolute)
        let operation = "create dataset"
        let handle = try withHDF5 { () throws(HDF5Error) -> HDF5Handle in
            let lcpl = try prepareCreation(absolute, operation)
            let type = try HDF5StringType.make(for: strings, variableLength: true, site: site, operation: operation)
            let space = try HDF5Dataspace.make(shape: [strings.count], site: site, operation: operation)
            let dataset = try site.own(
                H5Dcreate2(file.handle.id, absolute, type.handle.id, space.id, lcpl.id, mp_H5P_DEFAULT(),
                           mp_H5P_DEFAULT()),
                .object, .io, operation)
            let payload = HDF5Payload(source: .dataset(dataset), site: site, noun: "dataset")
            try payload.writeStrings(strings, as: type, "write dataset")
            return dataset
        }
        return HDF5Dataset(file: file, path: absolute, handle: handle)
    }

    /// A chunk shape of at most about 1 MiB: the whole dataset, with the
    /// largest dimension halved until it fits. Every dimension must be positive.
    static func chunkShape(for shape: [Int], elementSize: Int) -> [hsize_t] {
        var chunk = shape.map { max(1, $0) }
        let target = 1 << 20
        func bytes() -> Int {
            chunk.reduce(elementSize) { partial, dim in
                let (product, overflow) = partial.multipliedReportingOverflow(by: dim)
                return overflow ? Int.max : product
            }
        }
        while bytes() > target, let largest = chunk.indices.max(by: { chunk[$0] < chunk[$1] }), chunk[largest] > 1 {
            chunk[largest] = (chunk[largest] + 1) / 2
        }
        return chunk.map { hsize_t($0) }
    }
}
