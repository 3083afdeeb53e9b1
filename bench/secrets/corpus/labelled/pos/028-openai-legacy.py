openai.api_key = "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"
