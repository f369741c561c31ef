import ArgumentParser
import Foundation
import Logging
import SwitchbackConfiguration

// What every long-running command does the same way: read the one configuration file, and log.

/// Loads the one configuration file, or exits with status 2 and the error naming the key.
func loadConfiguration(_ path: String, command: String) throws -> AgentConfiguration {
    do {
        let configuration = try AgentConfiguration.load(path: path)
        for warning in configuration.warnings {
            FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
        }
        return configuration
    } catch {
        throw failure(command, path, error)
    }
}

/// Prints a configuration error and returns the exit code for it.
func failure(_ command: String, _ path: String, _ error: ConfigurationError) -> ExitCode {
    FileHandle.standardError.write(Data("switchback \(command): \(path): \(error)\n".utf8))
    return ExitCode(2)
}

/// Logs to standard error at `level`.
func bootstrapLogging(level: Logger.Level) {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
}
