/// Object paths inside a file: joining, normalising, walking.
enum HDF5Path {
    /// The components of a path, without empty or `.` components.
    static func components(_ path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true)
            .map(String.init)
            .filter { $0 != "." }
    }

    /// The absolute, normalised path of `relative` seen from the group at `base`
    /// (itself absolute). A `relative` starting with `/` is taken from the root.
    static func resolve(_ relative: String, from base: String) -> String {
        let parts = relative.hasPrefix("/")
            ? components(relative)
            : components(base) + components(relative)
        return "/" + parts.joined(separator: "/")
    }

    /// Every absolute prefix of an absolute path, shortest first, excluding `/`:
    /// `/a/b/c` gives `/a`, `/a/b`, `/a/b/c`.
    static func prefixes(_ absolute: String) -> [String] {
        var result: [String] = []
        var current = ""
        for part in components(absolute) {
            current += "/" + part
            result.append(current)
        }
        return result
    }

    /// The last component of an absolute path, or `/` for the root.
    static func lastComponent(_ absolute: String) -> String {
        components(absolute).last ?? "/"
    }
}
