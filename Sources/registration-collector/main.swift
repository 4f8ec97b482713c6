// registration-collector OUTPUT SOURCE...
//
// Run by the build-tool plugin `RegistrationCollector` over the sources of a module (Optim: the
// optimizers; NN: the models): finds every top-level type (or extension) that declares
// `static let registration` and writes OUTPUT, a Swift file declaring `discoveredRegistrations`, the
// list of those registrations (their type is the module's own: `OptimizerRegistration`,
// `ModelRegistration`). Adding an optimizer or model file therefore adds it to every list without
// editing another file.
import Foundation

struct Found {
    let type: String
    let file: String
    let line: Int
}

/// A top-level declaration that opens a type body: `public final class AdamOptimizer: ...`, `extension X`.
let typeDeclaration = #/^(?:(?:public|internal|fileprivate|private|final|open|package)\s+)*(?:class|struct|enum|actor|extension)\s+([A-Za-z_][A-Za-z0-9_]*)/#
/// The registration, declared inside that body (indented; never in a comment).
let registrationDeclaration = #/^\s+(?:(?:public|internal|fileprivate|private|package|nonisolated)\s+)*static\s+let\s+registration\b/#

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("registration-collector: \(message)\n".utf8))
    exit(1)
}

let arguments = CommandLine.arguments.dropFirst()
guard let output = arguments.first, arguments.count >= 2 else {
    fail("usage: registration-collector OUTPUT SOURCE... (run by the RegistrationCollector build plugin)")
}

var found: [Found] = []
for path in arguments.dropFirst().sorted() {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { fail("cannot read \(path)") }
    var currentType: String?
    for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        if let m = line.firstMatch(of: typeDeclaration) {
            currentType = String(m.1)
        } else if line.contains(registrationDeclaration) {
            guard let type = currentType else {
                fail("\(path):\(index + 1): `static let registration` outside a top-level type; declare it in the type (or an extension of it)")
            }
            found.append(Found(type: type, file: (path as NSString).lastPathComponent, line: index + 1))
        }
    }
}
if found.isEmpty { fail("no `static let registration` in \(arguments.count - 1) source files") }

// The element type is left to the compiler: every registration of a module has the module's one type.
var text = """
// Generated at build time by registration-collector (the RegistrationCollector build plugin) from
// the module's sources: one entry per type that declares `static let registration`. Not committed;
// do not edit. The module orders them (Optim: `registeredOptimizers`; NN: `ModelZoo.registrations`).

let discoveredRegistrations = [

"""
for f in found { text += "    \(f.type).registration,  // \(f.file):\(f.line)\n" }
text += "]\n"

if (try? String(contentsOfFile: output, encoding: .utf8)) != text {
    do { try text.write(toFile: output, atomically: true, encoding: .utf8) } catch { fail("cannot write \(output): \(error)") }
}
