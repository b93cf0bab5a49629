import BulkheadHTTP
import BulkheadService

/// auth: tenants, users, signed access tokens (EdDSA JWT + JWKS), refresh-token families,
/// API keys, plans and quotas. Other services verify tokens locally with `BulkheadAuth`.
///
/// State: `DATA_DIR/auth.sqlite` and signing keys in `DATA_DIR/keys/` (0600). If the store
/// cannot be opened the service still starts, with `/readyz` failing and naming why.
public enum AuthService: ServiceDefinition {
    public static let name = "auth"
    public static let defaultPort = 8081

    public static func build(_ context: ServiceContext) async throws -> ServiceParts {
        let settings = AuthSettings(context.environment)
        let dataDirectory = context.configuration.dataDirectory
        let metrics = try AuthMetrics(context.metrics)
        let api: AuthAPI
        do {
            let store = try AuthStore(path: dataDirectory + "/auth.sqlite")
            let keyRing = try SigningKeyRing(
                directory: dataDirectory + "/keys", store: store, retention: settings.accessTokenTTL + 60, now: AuthAPI.now())
            api = try AuthAPI(settings: settings, store: store, keyRing: keyRing, logger: context.logger, metrics: metrics)
        } catch {
            let reason = String(describing: error)
            context.logger.error("auth storage unavailable", ["error": .string(reason)])
            return ServiceParts(readiness: [
                .dataDirectoryWritable(dataDirectory),
                ReadinessCheck(name: "database") { "cannot open: \(reason.prefix(200))" },
            ])
        }
        var router = Router()
        api.register(into: &router)
        let store = api.store
        return ServiceParts(
            router: router,
            middleware: [api.authenticationMiddleware],
            readiness: [
                .dataDirectoryWritable(dataDirectory),
                ReadinessCheck(name: "database") {
                    do {
                        _ = try store.database.query("SELECT 1")
                        return nil
                    } catch { return "query failed: \(error)" }
                },
            ],
            defaultBodyLimit: AuthAPI.bodyLimit)
    }
}
