import HTTPTypes

/// The header fields of a response, in the order they were set.
///
/// A response carries three to five fields, so a plain array searched from the front is all the
/// structure it needs; `HTTPFields` keeps an index and goes through generic sequences on every set,
/// which costs more than the search. Getting and setting by name behave as `HTTPFields` does:
/// repeated fields read joined with `, `, and setting a name replaces its fields in place (the
/// first keeps its position, the others go) or appends one.
public struct ResponseHeaders: Sendable, RandomAccessCollection, ExpressibleByDictionaryLiteral {
    private var fields: [HTTPField] = []

    public init() {}

    public init(_ fields: some Sequence<HTTPField>) {
        self.fields = Array(fields)
    }

    public init(dictionaryLiteral elements: (HTTPField.Name, String)...) {
        fields = elements.map { HTTPField(name: $0.0, value: $0.1) }
    }

    public var startIndex: Int { fields.startIndex }
    public var endIndex: Int { fields.endIndex }
    public subscript(position: Int) -> HTTPField { fields[position] }

    public subscript(name: HTTPField.Name) -> String? {
        get {
            var combined: String?
            for field in fields where field.name == name {
                combined = combined.map { $0 + (name == .cookie ? "; " : ", ") + field.value } ?? field.value
            }
            return combined
        }
        set {
            // `Cookie` is a request header; responses never set it, so its splitting is not copied.
            guard let first = fields.firstIndex(where: { $0.name == name }) else {
                if let newValue { fields.append(HTTPField(name: name, value: newValue)) }
                return
            }
            var index = first
            if let newValue {
                fields[first] = HTTPField(name: name, value: newValue)
                index += 1
            }
            while index < fields.count {
                if fields[index].name == name { fields.remove(at: index) } else { index += 1 }
            }
        }
    }

    public func contains(_ name: HTTPField.Name) -> Bool {
        fields.contains { $0.name == name }
    }

    public mutating func append(_ field: HTTPField) {
        fields.append(field)
    }

    public mutating func append(contentsOf other: some Sequence<HTTPField>) {
        fields.append(contentsOf: other)
    }
}
