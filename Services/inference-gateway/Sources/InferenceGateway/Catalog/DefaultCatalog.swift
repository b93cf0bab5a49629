/// The catalog served without `GATEWAY_CATALOG`: the local embedding models and two chat
/// simulators (priced, so costs show), enough for the stack to run with no provider account.
enum DefaultCatalog {
    static let json = """
    {
      "models": [
        {"name": "all-minilm-l6-v2", "kind": "embeddings", "cacheable": false,
         "deployments": [{"id": "local/all-minilm-l6-v2", "provider": "local", "context_window": 256,
                          "price": {"input": 0.01}}]},
        {"name": "all-minilm-l6-v2-int8", "kind": "embeddings", "cacheable": false,
         "deployments": [{"id": "local/all-minilm-l6-v2-int8", "provider": "local", "context_window": 256,
                          "price": {"input": 0.005}}]},
        {"name": "simulator-fast", "kind": "chat",
         "deployments": [{"id": "simulator/fast", "provider": "simulator", "context_window": 32768, "max_output_tokens": 1024,
                          "price": {"input": 0.1, "output": 0.4, "cached_input": 0.05},
                          "simulator": {"ttft_ms": 0, "tokens_per_second": 0, "output_tokens": 16}}]},
        {"name": "simulator-chat", "kind": "chat", "fallbacks": ["simulator-fast"],
         "deployments": [{"id": "simulator/chat", "provider": "simulator", "context_window": 32768, "max_output_tokens": 2048,
                          "price": {"input": 2.5, "output": 10.0, "cached_input": 1.25},
                          "simulator": {"ttft_ms": 150, "tokens_per_second": 60, "output_tokens": 64}}]}
      ]
    }
    """
}
