/// The text `bulkhead --help` prints.
public enum RunnerUsage {
    public static let text = """
        Usage: bulkhead run [options]
               bulkhead --help

        Starts the seven Bulkhead services and an AI job worker (inference-gateway with
        GATEWAY_MODE=worker) as child processes, waits until each answers
        GET /readyz with 200, prints their endpoints, and serves the public ingress: a reverse
        proxy routing /v1/auth/, /v1/api-keys and /.well-known/ to auth; /v1/chat/completions,
        /v1/embeddings and /v1/models to inference-gateway; /v1/me/, /v1/tenant/, /v1/jobs, /v1/stream,
        /v1/usage and /openapi.json to api-core (SSE streams pass through unbuffered and
        WebSocket upgrades, such as /v1/stream, are relayed message by message, at most 1024
        at once). /internal/ is never routed. Children that
        exit are restarted with backoff (0.5s doubling to 30s). Ctrl-C or SIGTERM stops
        everything (SIGTERM to each child, SIGKILL after the stop timeout); a second Ctrl-C
        kills at once.

        Options:
          --port N               ingress port (env PORT; default 8000; 0 picks a free one)
          --host ADDR            ingress bind address, an IP literal (env HOST; default 127.0.0.1)
          --base-port N          first service port; services use N..N+7 (default 8080):
                                 api-core, auth, inference-gateway, queue-broker, cache,
                                 metrics, autoscaler, inference-worker
          --data-dir PATH        data folder, one subfolder per service (env DATA_DIR; default ./.data)
          --bin-dir PATH         folder with the service executables (default: next to bulkhead)
          --ready-timeout DUR    time for every service to become ready (default 60s)
          --stop-timeout DUR     SIGTERM-to-SIGKILL grace per shutdown stage (default 15s)
          --upstream-timeout DUR time for an upstream's response head via the ingress (default 120s)
          -h, --help             this text

        Durations: seconds (60, 1.5, 30s) or milliseconds (500ms).

        Children get HOST=127.0.0.1, PORT, DATA_DIR=<data dir>/<service>,
        BULKHEAD_INTERNAL_TOKEN (from the environment, else generated once and kept in
        <data dir>/internal-token, mode 0600), AUTH_URL, API_CORE_URL, GATEWAY_URL,
        QUEUE_BROKER_URL, CACHE_URL, METRICS_URL, AUTOSCALER_URL, and the rest of bulkhead's
        own environment. The AI tier (inference-gateway, queue-broker, cache, inference-worker)
        runs in Linux's idle CPU scheduling class at nice 10, so logins and settings take the
        CPU from AI work at once; BULKHEAD_AI_SCHED_POLICY=normal (or batch) keeps only the nice.

        Exit status: 0 after a requested stop, 1 when the stack cannot start, 2 for a bad command line.
        """
}
