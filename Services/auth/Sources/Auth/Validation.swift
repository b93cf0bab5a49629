import BulkheadHTTP
import Foundation

/// Input rules with explicit limits; every failure is a 422 naming the field.
enum Validation {
    static let maxEmailLength = 254
    static let maxNameLength = 200
    static let maxScopes = 32
    static let maxScopeLength = 64

    /// Trims and lowercases; requires `local@domain.tld` with no spaces or control characters.
    static func email(_ raw: String) throws -> String {
        let email = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.utf8.count <= maxEmailLength, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
            !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
            !email.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7f })
        else { throw JSONBody.invalid("invalid_email", "Field 'email' must be an e-mail address (at most \(maxEmailLength) characters).") }
        return email
    }

    /// Requires at least `minimum` characters and at most 1024 bytes.
    static func password(_ password: String, minimum: Int) throws {
        guard password.count >= minimum else {
            throw JSONBody.invalid("weak_password", "Field 'password' must have at least \(minimum) characters.")
        }
        guard password.utf8.count <= AuthSettings.maxPasswordBytes else {
            throw JSONBody.invalid("invalid_field", "Field 'password' must be at most \(AuthSettings.maxPasswordBytes) bytes.")
        }
    }

    /// A display name: 1–200 characters, no control characters. Stored exactly as given.
    static func name(_ name: String, field: String) throws -> String {
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty, name.count <= maxNameLength,
            !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f })
        else { throw JSONBody.invalid("invalid_field", "Field '\(field)' must have 1 to \(maxNameLength) characters and no control characters.") }
        return name
    }

    /// Scopes: at most 32, each 1–64 of `a-z 0-9 : . _ - *`, duplicates dropped.
    static func scopes(_ scopes: [String]) throws -> [String] {
        guard scopes.count <= maxScopes else { throw JSONBody.invalid("invalid_field", "Field 'scopes' allows at most \(maxScopes) entries.") }
        var seen: [String] = []
        for s in scopes {
            guard !s.isEmpty, s.utf8.count <= maxScopeLength, s.utf8.allSatisfy({ c in
                (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c == 0x3a || c == 0x2e || c == 0x5f || c == 0x2d || c == 0x2a
            }) else {
                throw JSONBody.invalid("invalid_field", "Field 'scopes' entries must be 1 to \(maxScopeLength) characters of a-z 0-9 : . _ - *.")
            }
            if !seen.contains(s) { seen.append(s) }
        }
        return seen
    }

    static func role(_ raw: String) throws -> Role {
        guard let role = Role(rawValue: raw) else { throw JSONBody.invalid("invalid_field", "Field 'role' must be owner, admin or member.") }
        return role
    }
}
