import ArgumentParser

/// How a command prints its result: the text report (default) or one JSON
/// object for scripts. Shared by inspect, predict, validate, evaluate and bench,
/// whose descriptions list their JSON fields.
struct OutputFormatOptions: ParsableArguments {
    @Flag(help: "Print one JSON object (for scripts, e.g. | jq) instead of the text report; its fields are listed above.")
    var json = false
}
