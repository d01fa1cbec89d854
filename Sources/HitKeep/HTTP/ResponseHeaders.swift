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
            if let newValue {
                set(HTTPField(name: name, value: newValue))
            } else {
                removeFields(named: name, from: 0)
            }
        }
    }

    /// Sets a field as `self[field.name] = field.value` would, for a field built once and reused.
    /// `Cookie` is a request header; responses never set it, so its splitting into one field per
    /// cookie is not copied.
    public mutating func set(_ field: HTTPField) {
        guard let first = fields.firstIndex(where: { $0.name == field.name }) else {
            append(field)
            return
        }
        fields[first] = field
        removeFields(named: field.name, from: first + 1)
    }

    private mutating func removeFields(named name: HTTPField.Name, from start: Int) {
        var index = start
        while index < fields.count {
            if fields[index].name == name { fields.remove(at: index) } else { index += 1 }
        }
    }

    public func contains(_ name: HTTPField.Name) -> Bool {
        fields.contains { $0.name == name }
    }

    public mutating func append(_ field: HTTPField) {
        reserveOnFirstUse()
        fields.append(field)
    }

    /// Every response ends up with three to five fields; room for them at once spares the
    /// reallocations of growing one by one. An empty set (most handlers add nothing) costs nothing.
    private mutating func reserveOnFirstUse() {
        if fields.capacity == 0 { fields.reserveCapacity(6) }
    }

    public mutating func append(contentsOf other: some Sequence<HTTPField>) {
        fields.append(contentsOf: other)
    }
}
