import Foundation
import PostgresClient

/// Making an account, as first-run setup and the command line both do it: email, name and password
/// checked and the password hashed before any transaction opens (Argon2 takes a while), then the
/// user stored, with the site invitations waiting for their email turned into memberships.
enum AccountRegistration {
    /// A new account's checked fields; the password only as its hash.
    struct NewAccount {
        let email: String
        let name: String
        let passwordHash: String
    }

    static func validate(email: String, name: String, password: String) throws(DomainError) -> NewAccount {
        let email = try EmailAddress.validate(email)
        try PasswordPolicy.validate(password)
        let name = try UserName.validate(name)
        return NewAccount(email: email, name: name, passwordHash: PasswordHasher.hash(password))
    }

    /// Stores the account; part of the caller's transaction. A taken email is 409 `email_taken`.
    static func register(_ account: NewAccount, isAdmin: Bool, from origin: AuditLog.Origin, at now: Date,
                         on database: some PostgresQuerying) throws -> User {
        do {
            let user = try UserStore.create(email: account.email, name: account.name,
                                            passwordHash: account.passwordHash, isAdmin: isAdmin, now: now, on: database)
            try SiteInvitations.accept(forUser: user.id, from: origin, at: now, on: database)
            return user
        } catch UserStore.CreateFailure.emailTaken {
            throw DomainError.conflict("email_taken", "a user with the email \(account.email) exists already")
        }
    }
}
