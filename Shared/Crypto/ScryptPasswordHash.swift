/// A stored scrypt password hash: parameters, salt and derived key, with a text encoding.
///
/// Encoded as `scrypt$<parameters>$<salt>$<key>`, parameters in `ScryptParameters.description`
/// form and salt/key in unpadded base64url, for example
/// `scrypt$ln=15,r=8,p=1,len=32$q83v...$Wm9v...`. Because the parameters travel with the hash,
/// the service can raise its target later and re-hash on the next successful login
/// (`needsRehash(for:)`).
public struct ScryptPasswordHash: Sendable, Hashable {
    /// The parameters the key was derived with.
    public let parameters: ScryptParameters
    /// The random salt.
    public let salt: [UInt8]
    /// The derived key (`parameters.length` bytes).
    public let key: [UInt8]

    /// Wraps existing parts (for example read from separate database columns).
    public init(parameters: ScryptParameters, salt: [UInt8], key: [UInt8]) {
        self.parameters = parameters
        self.salt = salt
        self.key = key
    }

    /// Hashes `password` with a fresh random salt of `saltLength` bytes.
    public init(
        password: String, parameters: ScryptParameters = .interactive, saltLength: Int = 16,
        maxMemory: UInt64 = Scrypt.defaultMaxMemory
    ) throws {
        guard saltLength >= 8 else { throw CryptoError("scrypt salt must be at least 8 bytes") }
        let salt = SecureRandom.bytes(count: saltLength)
        let key = try Scrypt.derive(password: password, salt: salt, parameters: parameters, maxMemory: maxMemory)
        self.init(parameters: parameters, salt: salt, key: key)
    }

    /// Parses the `encoded` form. Returns `nil` if it is malformed.
    public init?(encoded text: String) {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "scrypt",
            let parameters = ScryptParameters(description: String(parts[1])),
            let salt = Base64URL.decode(String(parts[2])),
            let key = Base64URL.decode(String(parts[3])),
            key.count == parameters.length, !salt.isEmpty
        else { return nil }
        self.init(parameters: parameters, salt: salt, key: key)
    }

    /// The text form to store.
    public var encoded: String {
        "scrypt$\(parameters)$\(Base64URL.encode(salt))$\(Base64URL.encode(key))"
    }

    /// Whether `password` matches, comparing keys in constant time.
    ///
    /// Throws only if the stored parameters are invalid or exceed `maxMemory`.
    public func verify(password: String, maxMemory: UInt64 = Scrypt.defaultMaxMemory) throws -> Bool {
        let candidate = try Scrypt.derive(password: password, salt: salt, parameters: parameters, maxMemory: maxMemory)
        return ConstantTime.equals(candidate, key)
    }

    /// Whether this hash was made with weaker parameters than `target` and should be re-derived.
    public func needsRehash(for target: ScryptParameters) -> Bool {
        parameters.isWeaker(than: target)
    }
}
