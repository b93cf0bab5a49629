import BulkheadStorage

/// The cache's SQLite file (`DATA_DIR/cache.sqlite`, WAL): namespaces and entries, vectors as
/// Float32 little-endian BLOBs. Only `CacheWriter` writes; the store reads it once at start.
final class CacheDatabase: Sendable {
    let database: SQLiteDatabase

    static let migrations = Migrator([
        Migration(
            version: 1, name: "cache entries",
            sql: """
                CREATE TABLE cache_namespaces (
                    tenant TEXT NOT NULL, namespace TEXT NOT NULL, dimension INTEGER, created_at INTEGER NOT NULL,
                    PRIMARY KEY (tenant, namespace)) WITHOUT ROWID;
                CREATE TABLE cache_entries (
                    id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, namespace TEXT NOT NULL, key TEXT NOT NULL,
                    vector BLOB, response BLOB NOT NULL, usage BLOB, cost_micro_usd INTEGER NOT NULL,
                    created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, last_used_at INTEGER NOT NULL,
                    UNIQUE (tenant, namespace, key));
                CREATE INDEX cache_entries_expiry ON cache_entries (expires_at);
                """)
    ])

    /// Opens (creating and migrating) the file at `path`.
    init(path: String) throws {
        // synchronous=NORMAL: a cache may lose its last writes on power loss, never its integrity.
        database = try SQLiteDatabase(path: path, configuration: SQLiteConfiguration(synchronous: .normal))
        _ = try Self.migrations.migrate(database)
    }

    /// Applies `writes` in one transaction, in order; `touches` (id → last used) last.
    func apply(_ writes: [CacheWrite], touches: [UInt64: Int64]) throws {
        try database.transaction { tx in
            for w in writes {
                switch w {
                case .putNamespace(let ns, let dimension, let createdAt):
                    try tx.run(
                        "INSERT INTO cache_namespaces (tenant, namespace, dimension, created_at) VALUES (?, ?, ?, ?) "
                            + "ON CONFLICT (tenant, namespace) DO UPDATE SET dimension = excluded.dimension",
                        bindings: [.text(ns.tenant), .text(ns.namespace), SQLiteValue(dimension), .integer(createdAt)])
                case .putEntry(let s):
                    let e = s.entry
                    try tx.run(
                        "INSERT OR REPLACE INTO cache_entries (id, tenant, namespace, key, vector, response, usage, cost_micro_usd, "
                            + "created_at, expires_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        bindings: [
                            .integer(Int64(bitPattern: e.id)), .text(s.namespace.tenant), .text(s.namespace.namespace), .text(e.key),
                            SQLiteValue(s.vector.map(VectorBlob.encode)), .blob(e.response), SQLiteValue(e.usage),
                            .integer(Int64(e.costMicroUSD)), .integer(e.createdAt), .integer(e.expiresAt), .integer(s.lastUsedAt),
                        ])
                case .deleteEntry(let id):
                    try tx.run("DELETE FROM cache_entries WHERE id = ?", bindings: [.integer(Int64(bitPattern: id))])
                case .deleteNamespace(let ns):
                    try tx.run("DELETE FROM cache_entries WHERE tenant = ? AND namespace = ?", bindings: [.text(ns.tenant), .text(ns.namespace)])
                    try tx.run("DELETE FROM cache_namespaces WHERE tenant = ? AND namespace = ?", bindings: [.text(ns.tenant), .text(ns.namespace)])
                case .deleteTenant(let tenant):
                    try tx.run("DELETE FROM cache_entries WHERE tenant = ?", bindings: [.text(tenant)])
                    try tx.run("DELETE FROM cache_namespaces WHERE tenant = ?", bindings: [.text(tenant)])
                }
            }
            for (id, at) in touches {
                try tx.run("UPDATE cache_entries SET last_used_at = ? WHERE id = ?", bindings: [.integer(at), .integer(Int64(bitPattern: id))])
            }
        }
    }

    /// Deletes entries expired at `now`; returns how many.
    func deleteExpired(now: Int64) throws -> Int {
        try database.run("DELETE FROM cache_entries WHERE expires_at <= ?", bindings: [.integer(now)]).changes
    }

    /// Every namespace row.
    func loadNamespaces() throws -> [(NamespaceID, dimension: Int?, createdAt: Int64)] {
        try database.query("SELECT tenant, namespace, dimension, created_at FROM cache_namespaces").compactMap { row in
            guard let t = row.string(0), let n = row.string(1) else { return nil }
            return (NamespaceID(tenant: t, namespace: n), row.int(2), row.int64(3) ?? 0)
        }
    }

    /// Up to `limit` live entries with ids above `after`, in id order (the loader pages through
    /// the table so memory stays bounded while loading).
    func entries(after: Int64, liveAt now: Int64, limit: Int = 5000) throws -> [StoredEntry] {
        let rows = try database.query(
            "SELECT id, tenant, namespace, key, vector, response, usage, cost_micro_usd, created_at, expires_at, last_used_at "
                + "FROM cache_entries WHERE id > ? AND expires_at > ? ORDER BY id LIMIT ?",
            bindings: [.integer(after), .integer(now), .integer(Int64(limit))])
        return rows.compactMap { row in
            guard let id = row.int64(0), let tenant = row.string(1), let namespace = row.string(2), let key = row.string(3),
                let response = row.blob(5)
            else { return nil }
            let vector = row.blob(4).map(VectorBlob.decode)
            let usage = row.blob(6)
            let entry = CacheEntry(
                id: UInt64(bitPattern: id), key: key, response: response, usage: usage, costMicroUSD: row.int(7) ?? 0,
                createdAt: row.int64(8) ?? 0, expiresAt: row.int64(9) ?? 0,
                bytes: CacheEntry.size(key: key, response: response, usage: usage, dimension: vector?.count ?? 0),
                hasVector: vector != nil)
            return StoredEntry(
                namespace: NamespaceID(tenant: tenant, namespace: namespace), entry: entry, vector: vector, lastUsedAt: row.int64(10) ?? 0)
        }
    }

    /// The largest entry id ever stored (ids are never reused while rows exist).
    func maxEntryID() throws -> UInt64 {
        UInt64(bitPattern: try database.query("SELECT COALESCE(MAX(id), 0) FROM cache_entries").first?.int64(0) ?? 0)
    }
}

/// Vectors as BLOBs: Float32, little-endian.
enum VectorBlob {
    static func encode(_ v: [Float]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(v.count * 4)
        for x in v {
            let b = x.bitPattern  // shifts below pick bytes low first: little-endian on any host
            out.append(UInt8(truncatingIfNeeded: b))
            out.append(UInt8(truncatingIfNeeded: b >> 8))
            out.append(UInt8(truncatingIfNeeded: b >> 16))
            out.append(UInt8(truncatingIfNeeded: b >> 24))
        }
        return out
    }

    static func decode(_ bytes: [UInt8]) -> [Float] {
        var out = [Float]()
        out.reserveCapacity(bytes.count / 4)
        var i = 0
        while i + 3 < bytes.count {
            let bits = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
            out.append(Float(bitPattern: bits))
            i += 4
        }
        return out
    }
}
