/// Local embedding models; filled by the local-models issue.
public enum BulkheadEmbeddingsModule {}
