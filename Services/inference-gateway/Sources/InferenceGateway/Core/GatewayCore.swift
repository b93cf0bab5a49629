import BulkheadHTTP
import BulkheadObservability
import BulkheadService
import Dispatch
import Foundation
import Shared
#if canImport(Glibc)
import Glibc
#endif

/// The gateway's core: catalog, routing, providers and the OpenAI routes.
public struct GatewayCore: Sendable {
    public var pipeline: any InferencePipeline
    public var readiness: [ReadinessCheck]
    public var background: [@Sendable () async throws -> Void]
    public var onShutdown: [@Sendable () async -> Void]
    let registerRoutes: @Sendable (inout Router) -> Void
    /// Reloads the catalog file (what SIGHUP does): nil on success, else why the old catalog stays.
    public var reloadCatalog: @Sendable () -> String?

    /// Reads the core's settings from `context.environment` and builds it over `hooks`, serving
    /// the in-process models of `localModels`.
    public static func make(_ context: ServiceContext, hooks: any InferenceHooks, localModels provider: LocalProvider) async throws -> GatewayCore {
        let env = context.environment
        let settings = CoreSettings.read(env)
        let preload = env.bool("LOCAL_MODELS_PRELOAD", default: false)
        let catalog: Catalog
        do throws(CatalogError) {
            if let path = settings.catalogPath {
                catalog = try CatalogLoader.load(path: path, environment: env.values)
            } else {
                catalog = try CatalogLoader.parse(Data(DefaultCatalog.json.utf8), environment: [:])
            }
        } catch {
            env.recordProblem("GATEWAY_CATALOG: \(error.message)")
            catalog = Catalog(models: [])
        }
        let store = CatalogStore(catalog)
        let metrics = try CoreMetrics(context.metrics)
        let clients = UpstreamClients(settings: settings.upstream)
        let chat = ChatService(store: store, hooks: hooks, metrics: metrics, settings: settings, clients: clients)
        let embeddings = EmbeddingsService(store: store, hooks: hooks, dispatcher: chat.dispatcher, local: provider, clients: clients)
        let logger = context.logger
        let reload: @Sendable () -> String? = {
            guard let path = settings.catalogPath else { return "no GATEWAY_CATALOG file to reload (the built-in catalog is served)" }
            do throws(CatalogError) {
                // Credentials are read from the live environment so rotated keys are picked up.
                let fresh = try CatalogLoader.load(path: path, environment: ProcessInfo.processInfo.environment.merging(env.values) { live, _ in live })
                store.replace(fresh)
                metrics.catalogReloads.labels("ok").inc()
                logger.info("catalog reloaded", ["models": .int(fresh.models.count), "path": .string(path)])
                return nil
            } catch {
                metrics.catalogReloads.labels("error").inc()
                logger.error("catalog reload failed; keeping the previous catalog", ["error": .string(error.message)])
                return error.message
            }
        }

        var readiness: [ReadinessCheck] = []
        var background: [@Sendable () async throws -> Void] = [
            {
                // SIGHUP reloads the catalog; a bad file keeps the old one.
                for await _ in SignalStream.hangups() { _ = reload() }
            }
        ]
        if preload {
            // Loading takes a moment; serve health meanwhile and report readiness once loaded.
            readiness.append(ReadinessCheck(name: "local_models") { await provider.readinessProblem() })
            background.append {
                if let problem = await provider.preload() {
                    logger.error("local model preload failed: \(problem)")
                }
            }
        }
        let pipeline = CorePipeline(chat: chat, embeddings: embeddings)
        return GatewayCore(
            pipeline: pipeline, readiness: readiness, background: background, onShutdown: [{ await clients.shutdown() }],
            registerRoutes: { router in
                ChatRoute(service: chat).register(on: &router)
                EmbeddingsRoutes(service: embeddings).register(on: &router)
                ModelsRoute(store: store, local: provider).register(on: &router)
            },
            reloadCatalog: reload)
    }

    public func register(on router: inout Router) { registerRoutes(&router) }
}

/// SIGHUP as an async sequence (the default action, terminating, is disabled while anyone listens).
enum SignalStream {
    static func hangups() -> AsyncStream<Void> {
        AsyncStream { continuation in
            signal(SIGHUP, SIG_IGN)
            let box = SourceBox(DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global()))
            box.source.setEventHandler { continuation.yield() }
            box.source.resume()
            continuation.onTermination = { _ in box.source.cancel() }
        }
    }
}

/// Holds a dispatch source for the stream's termination handler (sources are thread-safe; the type is not marked).
private final class SourceBox: @unchecked Sendable {
    let source: any DispatchSourceSignal
    init(_ source: any DispatchSourceSignal) { self.source = source }
}
