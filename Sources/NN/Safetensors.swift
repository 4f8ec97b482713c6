import Engine
import Foundation

// The safetensors format (https://github.com/huggingface/safetensors):
//
//   8 bytes   N, the header length, unsigned little-endian
//   N bytes   JSON: {"name": {"dtype": "F32", "shape": [64, 3, 3, 3], "data_offsets": [begin, end]}, ...,
//             "__metadata__": {"key": "value"}}   (optional metadata; offsets are relative to the data)
//   rest      the tensors' bytes, row-major, little-endian
//
// Reading validates the whole header against the file size before any tensor memory is allocated.
// adai-bench keeps float tensors as F32 and batch counters as I64, as PyTorch's state_dict does.

/// A bad, unreadable or mismatched safetensors file. The message names the file, the tensor
/// and what to do.
public struct SafetensorsError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The element types the format defines, with their sizes in bytes.
public enum SafetensorsDType: String, CaseIterable {
    case BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64

    public var byteSize: Int {
        switch self {
        case .BOOL, .U8, .I8, .F8_E5M2, .F8_E4M3: return 1
        case .I16, .U16, .F16, .BF16: return 2
        case .I32, .U32, .F32: return 4
        case .F64, .I64, .U64: return 8
        }
    }
}

/// A tensor as stored in a checkpoint.
public enum StoredTensor {
    case float32(Tensor)
    case int64(shape: [Int], values: [Int64])

    public var shape: [Int] {
        switch self {
        case .float32(let t): return t.shape
        case .int64(let shape, _): return shape
        }
    }

    public var dtype: SafetensorsDType {
        switch self {
        case .float32: return .F32
        case .int64: return .I64
        }
    }

    var byteCount: Int {
        switch self {
        case .float32(let t): return t.count * 4
        case .int64(_, let values): return values.count * 8
        }
    }
}

/// The named tensors of one safetensors file, in file order, and its string metadata.
public struct SafetensorsArchive {
    public var tensors: [(name: String, value: StoredTensor)]
    public var metadata: [String: String]

    /// The largest header accepted (the reference implementation's limit).
    public static let maximumHeaderBytes = 100_000_000

    public init(tensors: [(name: String, value: StoredTensor)] = [], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    public subscript(name: String) -> StoredTensor? { tensors.first { $0.name == name }?.value }

    public var names: [String] { tensors.map(\.name) }

    /// A float tensor by name, or an error naming the file and the tensor.
    public func floatTensor(_ name: String, source: String) throws -> Tensor {
        guard let stored = self[name] else {
            throw SafetensorsError("\(source) has no tensor `\(name)`; it holds \(names.prefix(8).joined(separator: ", "))\(names.count > 8 ? ", …" : "")")
        }
        guard case .float32(let t) = stored else {
            throw SafetensorsError("tensor `\(name)` in \(source) is \(stored.dtype.rawValue), expected F32")
        }
        return t
    }

    // MARK: Writing

    /// The complete file contents: header length, JSON header padded with spaces to a multiple of
    /// 8 bytes (as the reference writer does), then the tensors in order.
    public func serialized() -> Data {
        var header = "{"
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            entries.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for (name, value) in tensors {
            let end = offset + value.byteCount
            let shape = value.shape.map(String.init).joined(separator: ",")
            entries.append("\(jsonString(name)):{\"dtype\":\"\(value.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        header += entries.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(UInt8(ascii: " ")) }

        var data = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: headerBytes)
        for (_, value) in tensors {
            switch value {
            case .float32(let t):
                appendLittleEndian(UnsafeRawBufferPointer(start: t.data, count: t.count * 4), elementSize: 4, to: &data)
            case .int64(_, let values):
                values.withUnsafeBytes { appendLittleEndian($0, elementSize: 8, to: &data) }
            }
        }
        return data
    }

    /// Writes the file atomically (Engine's AtomicFile: a temporary file beside it, then renamed over `url`).
    public func write(to url: URL) throws {
        do {
            try AtomicFile.write(serialized(), to: url.path)
        } catch let error as AtomicFile.WriteError {
            throw SafetensorsError("cannot write \(url.path): \(error.systemReason); check that the folder exists and is writable")
        }
    }

    // MARK: Reading

    /// Reads and validates a file. The header (length, JSON, dtypes, shapes, offsets) is checked
    /// against the file size before any tensor is allocated.
    public static func read(contentsOf url: URL) throws -> SafetensorsArchive {
        let path = url.path
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw SafetensorsError("cannot open \(path): no such file or not readable")
        }
        defer { try? handle.close() }
        let fileSize: Int
        do { fileSize = Int(try handle.seekToEnd()) } catch {
            throw SafetensorsError("cannot read \(path): \(error.localizedDescription)")
        }
        let headerLength = try readHeaderLength(handle, path: path, fileSize: fileSize)
        let headerData = try readBytes(handle, at: 8, count: headerLength, path: path)
        let layout = try parseHeader(headerData, path: path, dataSize: fileSize - 8 - headerLength)

        var tensors: [(name: String, value: StoredTensor)] = []
        for entry in layout.entries {
            let bytes = try readBytes(handle, at: 8 + headerLength + entry.begin, count: entry.end - entry.begin, path: path)
            switch entry.dtype {
            case .F32:
                let t = Tensor(uninitializedShape: entry.shape)
                bytes.withUnsafeBytes { copyLittleEndian($0, elementSize: 4, into: UnsafeMutableRawPointer(t.data)) }
                tensors.append((entry.name, .float32(t)))
            default:  // .I64: parseHeader admits nothing else
                var values = [Int64](repeating: 0, count: entry.shape.reduce(1, *))
                values.withUnsafeMutableBytes { dst in
                    bytes.withUnsafeBytes { copyLittleEndian($0, elementSize: 8, into: dst.baseAddress!) }
                }
                tensors.append((entry.name, .int64(shape: entry.shape, values: values)))
            }
        }
        return SafetensorsArchive(tensors: tensors, metadata: layout.metadata)
    }

    struct HeaderEntry {
        let name: String
        let dtype: SafetensorsDType
        let shape: [Int]
        let begin, end: Int
    }

    private static func readHeaderLength(_ handle: FileHandle, path: String, fileSize: Int) throws -> Int {
        guard fileSize >= 8 else {
            throw SafetensorsError("\(path) is \(fileSize) bytes, too short for a safetensors file (it starts with an 8-byte header length); the file is truncated or not a checkpoint")
        }
        let lengthBytes = try readBytes(handle, at: 0, count: 8, path: path)
        let length = lengthBytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard length <= UInt64(maximumHeaderBytes) else {
            throw SafetensorsError("\(path) claims a header of \(length) bytes, over the 100 MB limit; the file is corrupt or not a safetensors checkpoint")
        }
        guard Int(length) <= fileSize - 8 else {
            throw SafetensorsError("\(path) claims a header of \(length) bytes but the file holds only \(fileSize - 8) bytes after the length; the file is truncated or corrupt")
        }
        return Int(length)
    }

    private static func readBytes(_ handle: FileHandle, at offset: Int, count: Int, path: String) throws -> Data {
        do {
            try handle.seek(toOffset: UInt64(offset))
            let data = try handle.read(upToCount: count) ?? Data()
            guard data.count == count else {
                throw SafetensorsError("\(path): expected \(count) bytes at offset \(offset) but read \(data.count); the file changed while being read or is truncated")
            }
            return data
        } catch let error as SafetensorsError {
            throw error
        } catch {
            throw SafetensorsError("cannot read \(path): \(error.localizedDescription)")
        }
    }

    /// Parses and validates the JSON header against the `dataSize` bytes that follow it.
    static func parseHeader(_ header: Data, path: String, dataSize: Int) throws -> (entries: [HeaderEntry], metadata: [String: String]) {
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: header) } catch {
            throw SafetensorsError("\(path): the header is not valid JSON (\(error.localizedDescription)); the file is corrupt or not a safetensors checkpoint")
        }
        guard let object = json as? [String: Any] else {
            throw SafetensorsError("\(path): the header is not a JSON object; the file is corrupt or not a safetensors checkpoint")
        }
        var metadata: [String: String] = [:]
        var entries: [HeaderEntry] = []
        for (name, value) in object {
            if name == "__metadata__" {
                guard let pairs = value as? [String: Any] else {
                    throw SafetensorsError("\(path): `__metadata__` is not an object of strings")
                }
                for (key, v) in pairs {
                    guard let s = v as? String else { throw SafetensorsError("\(path): metadata `\(key)` is not a string") }
                    metadata[key] = s
                }
                continue
            }
            entries.append(try parseEntry(name: name, value, path: path, dataSize: dataSize))
        }
        // Offsets must not overlap: sorted by start, each tensor starts at or after the previous end.
        let sorted = entries.sorted { ($0.begin, $0.end) < ($1.begin, $1.end) }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where next.begin < previous.end {
            throw SafetensorsError("\(path): tensors `\(previous.name)` (bytes \(previous.begin)..<\(previous.end)) and `\(next.name)` (bytes \(next.begin)..<\(next.end)) overlap; the file is corrupt")
        }
        return (sorted, metadata)
    }

    private static func parseEntry(name: String, _ value: Any, path: String, dataSize: Int) throws -> HeaderEntry {
        guard let fields = value as? [String: Any] else {
            throw SafetensorsError("\(path): the header entry of tensor `\(name)` is not an object")
        }
        guard let dtypeName = fields["dtype"] as? String else {
            throw SafetensorsError("\(path): tensor `\(name)` has no dtype")
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw SafetensorsError("\(path): tensor `\(name)` has unknown dtype \"\(dtypeName)\"; safetensors dtypes are \(SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard dtype == .F32 || dtype == .I64 else {
            throw SafetensorsError("\(path): tensor `\(name)` is \(dtypeName); adai-bench reads F32 tensors and I64 counters only (convert the state_dict with .float() before saving)")
        }
        guard let shapeValues = fields["shape"] as? [Any], let shape = integers(shapeValues), shape.allSatisfy({ $0 >= 0 }) else {
            throw SafetensorsError("\(path): tensor `\(name)` has no valid shape (a list of non-negative integers)")
        }
        guard let offsetValues = fields["data_offsets"] as? [Any], let offsets = integers(offsetValues), offsets.count == 2 else {
            throw SafetensorsError("\(path): tensor `\(name)` has no valid data_offsets (two integers)")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin >= 0, begin <= end else {
            throw SafetensorsError("\(path): tensor `\(name)` has data_offsets [\(begin), \(end)], which is not a valid byte range; the file is corrupt")
        }
        guard end <= dataSize else {
            throw SafetensorsError("\(path): tensor `\(name)` claims bytes \(begin)..<\(end) but the file holds only \(dataSize) bytes of data; the file is truncated or corrupt")
        }
        var elements = 1
        for d in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow else { throw SafetensorsError("\(path): tensor `\(name)` has an impossible shape \(shape)") }
            elements = product
        }
        let (bytes, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, bytes == end - begin else {
            throw SafetensorsError("\(path): tensor `\(name)` of shape \(shape) and dtype \(dtypeName) needs \(elements) × \(dtype.byteSize) bytes but its data_offsets span \(end - begin); the file is corrupt")
        }
        return HeaderEntry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// JSON numbers as Ints, or nil if any is not a whole number that fits.
    private static func integers(_ values: [Any]) -> [Int]? {
        var result: [Int] = []
        for v in values {
            guard let n = v as? Int else { return nil }
            result.append(n)
        }
        return result
    }
}

/// A JSON string literal.
private func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
        }
    }
    return out + "\""
}

/// Appends host-order elements as little-endian bytes.
private func appendLittleEndian(_ source: UnsafeRawBufferPointer, elementSize: Int, to data: inout Data) {
    #if _endian(little)
    data.append(contentsOf: source)
    #else
    var swapped = [UInt8](source)
    for start in stride(from: 0, to: swapped.count, by: elementSize) { swapped[start..<start + elementSize].reverse() }
    data.append(contentsOf: swapped)
    #endif
}

/// Copies little-endian elements into host-order memory.
private func copyLittleEndian(_ source: UnsafeRawBufferPointer, elementSize: Int, into destination: UnsafeMutableRawPointer) {
    guard source.count > 0 else { return }
    destination.copyMemory(from: source.baseAddress!, byteCount: source.count)
    #if _endian(big)
    let bytes = destination.assumingMemoryBound(to: UInt8.self)
    for start in stride(from: 0, to: source.count, by: elementSize) {
        var i = start, j = start + elementSize - 1
        while i < j { let t = bytes[i]; bytes[i] = bytes[j]; bytes[j] = t; i += 1; j -= 1 }
    }
    #endif
}
