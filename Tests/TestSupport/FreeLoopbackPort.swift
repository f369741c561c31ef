#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A port free on loopback could not be found.
public struct NoFreePort: Error, CustomStringConvertible {
    public let description: String
}

/// A TCP port free on 127.0.0.1 right now: bound to port 0, read back and released, so a
/// process can bind it next. For set-ups where every party must know the others' ports before
/// any of them starts (three agents naming each other in their configurations).
public func freeLoopbackPort() throws -> Int {
    let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socketDescriptor >= 0 else { throw NoFreePort(description: "cannot open a socket to find a free port (errno \(errno))") }
    defer { close(socketDescriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
            bind(socketDescriptor, generic, length) == 0 && getsockname(socketDescriptor, generic, &length) == 0
        }
    }
    guard bound else { throw NoFreePort(description: "cannot bind a loopback socket to find a free port (errno \(errno))") }
    return Int(UInt16(bigEndian: address.sin_port))
}
