import Foundation

/// Prints and flushes at once, so progress on long benchmarks shows as it happens also when
/// the output goes to a file or a pipe (where standard output is fully buffered).
func printNow(_ line: String) {
    print(line)
    fflush(nil)
}
