/// A request body that must be one JSON object with known fields, read field by field with the
/// field named in every error, as the API promises (`invalid_json` for bad syntax, a wrong type or
/// an unknown field).
public struct JSONRequestBody {
    private let members: [(String, JSON)]

    /// - Parameters:
    ///   - allowed: the fields this endpoint understands; any other is refused.
    ///   - emptyMeansNone: an empty body stands for `{}` (for endpoints whose body is optional).
    public init(_ request: Request, allowed: Set<String>, emptyMeansNone: Bool = false) throws(HTTPProblem) {
        if emptyMeansNone && request.body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            members = []
            return
        }
        let value: JSON
        do {
            value = try JSONParser.parse(request.body)
        } catch {
            throw .invalidJSON(request.body.isEmpty ? "the request body is empty; a JSON object is expected" : "malformed JSON: \(error.reason)")
        }
        guard case .object(let members) = value else {
            throw .invalidJSON("the request body must be a JSON object, not \(value.typeName)")
        }
        if let unknown = members.first(where: { !allowed.contains($0.0) }) {
            throw .invalidJSON("unknown field \"\(Self.printable(unknown.0))\"")
        }
        self.members = members
    }

    /// Whether the field was sent at all (possibly as null).
    public func contains(_ name: String) -> Bool {
        members.contains { $0.0 == name }
    }

    /// Whether the field was sent as `null`.
    public func isNull(_ name: String) -> Bool {
        if case .null = self[name] { return true }
        return false
    }

    private subscript(_ name: String) -> JSON? {
        members.first { $0.0 == name }?.1
    }

    /// A string field; nil when absent or null.
    public func string(_ name: String) throws(HTTPProblem) -> String? {
        switch self[name] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case let other?: throw .invalidJSON("field \(name) must be a string, not \(other.typeName)")
        }
    }

    /// A string field that must be present; `missingCode` is the error code when it is not.
    public func requiredString(_ name: String, missingCode: String = "invalid_json") throws(HTTPProblem) -> String {
        guard let value = try string(name) else { throw .badRequest(missingCode, "field \(name) is required") }
        return value
    }

    /// A whole-number field; nil when absent or null.
    public func integer(_ name: String) throws(HTTPProblem) -> Int? {
        switch self[name] {
        case nil, .null?: return nil
        case .number(let value)? where value == value.rounded() && abs(value) < 9e15: return Int(value)
        case let other?: throw .invalidJSON("field \(name) must be a whole number, not \(other.typeName)")
        }
    }

    public func bool(_ name: String) throws(HTTPProblem) -> Bool? {
        switch self[name] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        case let other?: throw .invalidJSON("field \(name) must be a boolean, not \(other.typeName)")
        }
    }

    /// An array of strings; nil when absent or null.
    public func stringArray(_ name: String) throws(HTTPProblem) -> [String]? {
        switch self[name] {
        case nil, .null?: return nil
        case .array(let elements)?:
            var strings: [String] = []
            for element in elements {
                guard case .string(let value) = element else {
                    throw .invalidJSON("field \(name) must be an array of strings")
                }
                strings.append(value)
            }
            return strings
        case let other?: throw .invalidJSON("field \(name) must be an array, not \(other.typeName)")
        }
    }

    /// Field names quoted back to the client lose control characters and excess length.
    private static func printable(_ name: String) -> String {
        String(String.UnicodeScalarView(name.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }).prefix(64))
    }
}
