/// The response statuses counted one by one; any other status is counted as `other`. A fixed list,
/// so that counting a response is one switch and one store, and the counters have a fixed place in
/// shared memory. It holds every status the application answers with, and nginx's usual ones.
enum StatusColumns {
    static let codes: [Int] = [200, 201, 202, 204, 301, 302, 304, 400, 401, 403, 404, 405, 409, 410, 413, 415,
                               422, 429, 500, 502, 503, 504]
    /// Columns: one per code, then `other`.
    static let count = codes.count + 1
    static let other = codes.count

    @inline(__always)
    static func column(of status: Int) -> Int {
        switch status {
        case 200: 0
        case 201: 1
        case 202: 2
        case 204: 3
        case 301: 4
        case 302: 5
        case 304: 6
        case 400: 7
        case 401: 8
        case 403: 9
        case 404: 10
        case 405: 11
        case 409: 12
        case 410: 13
        case 413: 14
        case 415: 15
        case 422: 16
        case 429: 17
        case 500: 18
        case 502: 19
        case 503: 20
        case 504: 21
        default: other
        }
    }

    static func name(of column: Int) -> String {
        column < codes.count ? String(codes[column]) : "other"
    }
}
