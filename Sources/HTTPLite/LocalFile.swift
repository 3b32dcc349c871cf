/// Reads a whole file of at most `limit` bytes, for tokens, certificates and
/// other small files. Throws `HTTPError` `.system` naming the path, `.tooLarge` past the limit.
public func readLocalFile(_ path: String, limit: Int = 1 << 20) throws(HTTPError) -> [UInt8] {
    let descriptor: Int32
    do {
        descriptor = try System.openForReading(path)
    } catch {
        throw HTTPError(error, path: path)
    }
    defer { System.close(descriptor) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16 * 1024)
    while true {
        let count: Int
        do {
            // A regular file never answers "would block"; nil would mean end of file too.
            count = try chunk.withUnsafeMutableBytes { raw in
                Result { () throws(SystemError) -> Int in try System.read(descriptor, into: raw) ?? 0 }
            }.get()
        } catch {
            throw HTTPError(error, path: path)
        }
        if count == 0 { return bytes }
        guard bytes.count + count <= limit else {
            throw HTTPError(.tooLarge, "\(path) is larger than \(limit) bytes")
        }
        bytes.append(contentsOf: chunk[0..<count])
    }
}
