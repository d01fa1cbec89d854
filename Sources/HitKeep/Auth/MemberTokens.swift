import PostgresClient

/// The tokens, by hash, whose last request in this worker was a member's (`PrincipalRead.memberBody`):
/// a user's client not limited to particular sites. Their next request reads in the member form
/// straight away; any other token, or one not seen yet, in the general form. A wrong guess costs a
/// second statement, never a wrong answer, so a worker keeps this to itself and forgets at will:
/// past `capacity` tokens it starts again from none.
final class MemberTokens {
    private var hashes: Set<PostgresBytes> = []
    private let capacity: Int

    init(capacity: Int = 4_096) {
        self.capacity = capacity
    }

    func contains(_ hash: PostgresBytes) -> Bool {
        hashes.contains(hash)
    }

    func record(_ hash: PostgresBytes, isMember: Bool) {
        guard isMember else {
            hashes.remove(hash)
            return
        }
        if hashes.count >= capacity, !hashes.contains(hash) { hashes.removeAll(keepingCapacity: true) }
        hashes.insert(hash)
    }
}
