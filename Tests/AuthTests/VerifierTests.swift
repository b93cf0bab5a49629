import BulkheadAuth
import BulkheadCrypto
import Foundation
import Testing

/// The Shared verifier against a real auth service's JWKS, and against forged tokens.
@Suite("Shared access-token verifier")
struct VerifierTests {
    /// Re-signs `token`'s parts with a changed header or payload, keeping the original signature.
    static func swapPart(_ token: String, index: Int, with json: String) -> String {
        var parts = token.split(separator: ".").map(String.init)
        parts[index] = Base64URL.encode(json)
        return parts.joined(separator: ".")
    }

    static func claims(_ token: String) throws -> AccessTokenClaims { try JWT.parse(token).claims }

    @Test func rejectsTamperedExpiredWrongKidNoneAndWrongAudience() async throws {
        try await withAuth { auth in
            let owner = try await auth.signup()
            let verifier = auth.verifier()
            _ = try await verifier.verify(owner.access)
            let original = try Self.claims(owner.access)
            let kid = try #require(try JWT.parse(owner.access).header.kid)

            // Tampered payload (role raised to owner of another tenant) with the old signature.
            var forged = original
            forged.tenant = "ten_other"
            let encoder = JSONEncoder()
            let tampered = Self.swapPart(owner.access, index: 1, with: String(decoding: try encoder.encode(forged), as: UTF8.self))
            await #expect(throws: TokenVerificationError.badSignature) { try await verifier.verify(tampered) }

            // One flipped signature character.
            var chars = Array(owner.access)
            chars[chars.count - 2] = chars[chars.count - 2] == "A" ? "B" : "A"
            await #expect(throws: TokenVerificationError.badSignature) { try await verifier.verify(String(chars)) }

            // Expired: the verifier's clock is past exp + 60 s leeway; within leeway still fine.
            let late = original.exp + 61
            await #expect(throws: TokenVerificationError.expired) { try await auth.verifier(now: { late }).verify(owner.access) }
            let withinLeeway = original.exp + 30
            _ = try await auth.verifier(now: { withinLeeway }).verify(owner.access)
            let early = original.iat - 120
            await #expect(throws: TokenVerificationError.notYetValid) { try await auth.verifier(now: { early }).verify(owner.access) }

            // Wrong kid: a key auth never published (signature by our own key under an unknown kid).
            let attacker = try Ed25519PrivateKey.generate()
            let wrongKid = try JWT.sign(original, header: .init(kid: "k-unknown"), key: attacker)
            await #expect(throws: TokenVerificationError.unknownKey("k-unknown")) { try await verifier.verify(wrongKid) }
            // Right kid, wrong key.
            let wrongKey = try JWT.sign(original, header: .init(kid: kid), key: attacker)
            await #expect(throws: TokenVerificationError.badSignature) { try await verifier.verify(wrongKey) }

            // alg none (empty signature) and HS256 keyed with the public key (algorithm confusion).
            let noneToken = try JWT.signingInput(original, header: .init(alg: "none", kid: kid)) + "."
            await #expect(throws: TokenVerificationError.unsupportedAlgorithm("none")) { try await verifier.verify(noneToken) }
            let jwks = try await auth.call(.get, "/.well-known/jwks.json")
            let hsInput = try JWT.signingInput(original, header: .init(alg: "HS256", kid: kid))
            let mac = HMACSHA256.authenticationCode(key: Array(jwks.text.utf8), message: Array(hsInput.utf8))
            await #expect(throws: TokenVerificationError.unsupportedAlgorithm("HS256")) {
                try await verifier.verify(hsInput + "." + Base64URL.encode(mac))
            }

            // Wrong audience and wrong issuer, validly signed by auth's key? We cannot use auth's
            // private key here, so check with a verifier configured for another audience/issuer.
            let otherAudience = AccessTokenVerifier(
                jwksURL: auth.base + "/.well-known/jwks.json", client: auth.client, configuration: .init(audience: "billing"))
            await #expect(throws: TokenVerificationError.wrongAudience) { try await otherAudience.verify(owner.access) }
            let otherIssuer = AccessTokenVerifier(
                jwksURL: auth.base + "/.well-known/jwks.json", client: auth.client, configuration: .init(issuer: "evil"))
            await #expect(throws: TokenVerificationError.wrongIssuer) { try await otherIssuer.verify(owner.access) }

            // Malformed tokens.
            for bad in ["", "abc", "a.b", "a.b.c.d", "!!.!!.!!", String(repeating: "a", count: 9000)] {
                await #expect(throws: TokenVerificationError.self) { try await verifier.verify(bad) }
            }

            // And over HTTP: auth itself answers 401 invalid_token for each of them.
            for bad in [tampered, noneToken, wrongKid, "garbage"] {
                let r = try await auth.call(.get, "/v1/auth/me", bearer: bad)
                #expect(r.status == 401 && r.errorCode == "invalid_token")
            }
        }
    }

    @Test func wrongAudienceTokenSignedByATrustedKeyIsRejected() async throws {
        // A JWKS served in-process with our own key, so tokens for another audience can be minted.
        let key = try Ed25519PrivateKey.generate()
        let set = JSONWebKeySet(keys: [JSONWebKey(kid: "k1", publicKey: key.publicKey)])
        let verifier = AccessTokenVerifier(keySource: { set })
        let now = AccessTokenVerifier.systemClock()
        let good = AccessTokenClaims(iss: "bulkhead-auth", aud: "bulkhead", sub: "u", tenant: "t", role: "member", scopes: [], plan: "free", iat: now, exp: now + 900, jti: "j")
        #expect(try await verifier.verify(JWT.sign(good, kid: "k1", key: key)) == good)
        var other = good
        other.aud = ["billing"]
        await #expect(throws: TokenVerificationError.wrongAudience) { try await verifier.verify(JWT.sign(other, kid: "k1", key: key)) }
        var expired = good
        expired.exp = now - 61
        expired.iat = now - 1000
        await #expect(throws: TokenVerificationError.expired) { try await verifier.verify(JWT.sign(expired, kid: "k1", key: key)) }
        var future = good
        future.nbf = now + 600
        await #expect(throws: TokenVerificationError.notYetValid) { try await verifier.verify(JWT.sign(future, kid: "k1", key: key)) }
    }

    @Test func unknownKidRefreshIsRateLimited() async throws {
        let key = try Ed25519PrivateKey.generate()
        let set = JSONWebKeySet(keys: [JSONWebKey(kid: "k1", publicKey: key.publicKey)])
        let verifier = AccessTokenVerifier(configuration: .init(minimumRefreshInterval: .seconds(60)), keySource: { set })
        let now = AccessTokenVerifier.systemClock()
        let claims = AccessTokenClaims(iss: "bulkhead-auth", aud: "bulkhead", sub: "u", tenant: "t", role: "member", scopes: [], plan: "free", iat: now, exp: now + 900, jti: "j")
        _ = try await verifier.verify(JWT.sign(claims, kid: "k1", key: key))
        #expect(verifier.fetchCount == 1)
        for i in 0..<20 {
            await #expect(throws: TokenVerificationError.self) { try await verifier.verify(JWT.sign(claims, kid: "nope\(i)", key: key)) }
        }
        #expect(verifier.fetchCount == 1)
    }

    @Test func keyRotationKeepsOldTokensValidAndPersistsKeysPrivately() async throws {
        try await withAuth { auth in
            let owner = try await auth.signup()
            let verifier = auth.verifier()
            let oldKid = try #require(try JWT.parse(owner.access).header.kid)
            _ = try await verifier.verify(owner.access)

            let rotated = try await auth.internalCall(.post, "/internal/keys/rotate")
            #expect(rotated.status == 200)
            let newKid = try #require(rotated.string("kid"))
            #expect(newKid != oldKid)

            // New logins are signed by the new key; the verifier learns it on the unknown kid.
            let login = try await auth.login(owner.email, owner.password)
            let fresh = try #require(login.string("access_token"))
            #expect(try JWT.parse(fresh).header.kid == newKid)
            _ = try await verifier.verify(fresh)
            // The old token still verifies, and both keys are published.
            _ = try await verifier.verify(owner.access)
            let jwks = try await auth.call(.get, "/.well-known/jwks.json")
            let kids = ((jwks.json["keys"] as? [[String: Any]]) ?? []).compactMap { $0["kid"] as? String }
            #expect(Set(kids) == [oldKid, newKid])
            #expect(jwks.text.contains(#""alg":"EdDSA""#) && jwks.text.contains(#""crv":"Ed25519""#) && !jwks.text.contains(#""d":"#))

            // Private keys on disk are 0600.
            for kid in [oldKid, newKid] {
                let attributes = try FileManager.default.attributesOfItem(atPath: auth.dataDirectory + "/keys/\(kid).pem")
                #expect((attributes[.posixPermissions] as? Int) == 0o600)
            }
        }
    }
}
