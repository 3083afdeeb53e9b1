REFRESH = "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"
