public enum FastCGIError: Error, Sendable {
    case initializationFailed
}
