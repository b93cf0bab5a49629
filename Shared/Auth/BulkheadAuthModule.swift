/// Access tokens and their verification; filled by the auth issue.
public enum BulkheadAuthModule {}
