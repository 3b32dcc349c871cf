import Glibc

/// Reads a whole file of at most `limit` bytes, for tokens, certificates and
/// other small files. Throws `HTTPError` `.system` naming the path.
public func readLocalFile(_ path: String, limit: Int = 1 << 20) throws -> [UInt8] {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw systemError("open \(path)") }
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16 * 1024)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR { continue }
            throw systemError("read \(path)")
        }
        if count == 0 { return bytes }
        guard bytes.count + count <= limit else {
            throw HTTPError(.tooLarge, "\(path) is larger than \(limit) bytes")
        }
        bytes.append(contentsOf: chunk[0..<count])
    }
}
